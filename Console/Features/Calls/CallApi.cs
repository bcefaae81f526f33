using DeliveryConsole.Features.Calls.Telephony;
using DeliveryConsole.Features.Workspaces;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Api;

namespace DeliveryConsole.Features.Calls;

/// <summary>Group 3 (reference/calls.txt): snake_case, errors as <c>{"detail": …}</c>, validation 422.</summary>
public static class CallApi
{
    public static RouteGroupBuilder MapCallApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapApiGroup(ApiGroups.Calls);
        // X-Organization-ID, when sent, must name the key's own organization.
        group.AddEndpointFilter(async (context, next) =>
        {
            var header = context.HttpContext.Request.Headers["X-Organization-ID"].ToString();
            if (header.Length > 0 && !OrganizationId.Names(header, context.HttpContext.Caller().WorkspaceId))
            {
                throw new ForbiddenException("X-Organization-ID does not match the organization of this API key");
            }

            return await next(context);
        });
        group.MapGet("/", ListCalls).WithName("ListCalls");
        group.MapPost("/", CreateCall).WithName("CreateCall");
        group.MapGet("/{id}", GetCall).WithName("GetCall");
        group.MapPost("/{id}/join", JoinCall).WithName("JoinCall");
        group.MapPost("/{id}/end", EndCall).WithName("EndCall");
        group.MapGet("/{id}/recording", GetRecording).WithName("GetCallRecording");
        return group;
    }

    public static async Task<IResult> ListCalls(HttpContext http, CallService calls, TimeProvider clock)
    {
        var query = new QueryReader(http.Request.Query);
        var status = query.OneOf("status", CallStatus.All);
        var period = query.OneOf("time_period", CallQuery.TimePeriods);
        var start = query.Date("start_date");
        var end = query.Date("end_date");
        var search = query.String("search", 200);
        var page = query.Int("page", 1, 1, int.MaxValue);
        var pageSize = query.Int("page_size", 20, 1, 100);
        var orderBy = query.OneOf("order_by", CallQuery.OrderFields) ?? "created_at";
        var orderDesc = query.Bool("order_desc", true);
        if (period == "custom" && start is null && query.Errors.All(e => e.Location[1] != "start_date"))
        {
            query.Fail("start_date", "start_date is required when time_period is custom", "missing");
        }

        if (period == "custom" && end is null && query.Errors.All(e => e.Location[1] != "end_date"))
        {
            query.Fail("end_date", "end_date is required when time_period is custom", "missing");
        }

        if (start is { } s && end is { } e && e < s)
        {
            query.Fail("end_date", "end_date must not be before start_date", "value_error");
        }

        query.ThrowIfInvalid();

        // Without a period, start_date/end_date still narrow the list (the reference's own example).
        var (from, to) = CallQuery.Range(period, DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime), start, end);
        var (items, total) = await calls.ListAsync(http.Caller(), new CallQuery
        {
            Status = status, From = from, To = to, Search = search, OrderBy = orderBy, OrderDesc = orderDesc, Page = page, PageSize = pageSize,
        }, http.RequestAborted);
        var totalPages = (int)((total + (long)pageSize - 1) / pageSize);
        return TypedResults.Json(new
        {
            data = items.Select(CallResponse.From),
            pagination = new { page, page_size = pageSize, total_count = total, total_pages = totalPages, has_next = page < totalPages, has_prev = page > 1 },
        }, ApiJson.SnakeCase);
    }

    public static async Task<IResult> JoinCall(HttpContext http, string id, CallService calls)
    {
        var joined = await calls.JoinAsync(http.Caller(), id, http.RequestAborted);
        return TypedResults.Json(new { join_url = joined.JoinUrl, expires_at = joined.ExpiresAt }, ApiJson.SnakeCase);
    }

    public static async Task<IResult> EndCall(HttpContext http, string id, CallService calls) =>
        TypedResults.Json(CallResponse.From(await calls.EndAsync(http.Caller(), id, http.RequestAborted)), ApiJson.SnakeCase);

    public static async Task<IResult> GetRecording(HttpContext http, string id, CallService calls)
    {
        var call = await calls.GetAsync(http.Caller(), id, http.RequestAborted);
        var file = calls.RecordingFile(call) ?? throw new NotFoundException("This call has no recording yet.");
        return TypedResults.PhysicalFile(file, "audio/wav", $"{call.Id}.wav", enableRangeProcessing: true);
    }

    public sealed record CallResponse(
        string Id, string Status, DateTime? CallTime, DateTime CreatedAt, DateTime UpdatedAt, string CallDirection,
        string? PhoneNumber, string? ToNumber, string? FromNumber, DateTime? CallStartTime, DateTime? CallEndTime,
        string? CallType, string? LoadId, string OrganizationId, string? CreatedById, string? RecordingStatus, string? LoadNumber)
    {
        public static CallResponse From(Call c) => new(
            c.Id, c.Status, c.CallTime, c.CreatedAt, c.UpdatedAt, c.Direction, c.PhoneNumber, c.ToNumber, c.FromNumber,
            c.CallStartTime, c.CallEndTime, c.CallType, c.LoadId, Workspaces.OrganizationId.Of(c.WorkspaceId), c.CreatedById, c.RecordingStatus, c.LoadNumber);
    }

    public static async Task<IResult> GetCall(HttpContext http, string id, CallService calls) =>
        TypedResults.Json(CallResponse.From(await calls.GetAsync(http.Caller(), id, http.RequestAborted)), ApiJson.SnakeCase);

    public static async Task<IResult> CreateCall(HttpContext http, CallService calls)
    {
        try
        {
            return await CreateCallCoreAsync(http, calls);
        }
        catch (Telephony.TelephonyException exception)
        {
            // The call is stored as FAILED; the provider's reason goes back to the caller.
            throw new ConflictException(exception.Message);
        }
    }

    private static async Task<IResult> CreateCallCoreAsync(HttpContext http, CallService calls)
    {
        var caller = http.Caller();
        caller.Require(Access.Role.Operator);
        var body = await JsonBody.ReadAsync(http.Request);
        var to = body.PhoneNumber("to_number", required: true);
        var from = body.PhoneNumber("from_number");
        var callTime = body.Timestamp("call_time");
        var callType = body.String("call_type", maxLength: 100);
        var loadId = body.String("load_id", maxLength: 64);
        var loadNumber = body.String("load_number", maxLength: 64);
        body.ThrowIfInvalid();
        var call = await calls.CreateAsync(caller, new NewCall(to!, from, callTime, callType, loadId, loadNumber), http.RequestAborted);
        return TypedResults.Json(CallResponse.From(call), ApiJson.SnakeCase, statusCode: StatusCodes.Status201Created);
    }
}

public static class CallsExtensions
{
    public static IHostApplicationBuilder AddCalls(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CallService>();
        builder.Services.AddTelephony();
        return builder;
    }

    public static IEndpointRouteBuilder MapCalls(this IEndpointRouteBuilder routes)
    {
        routes.MapCallApi();
        routes.MapRecordingLinks();
        routes.MapTelephonyEvents();
        return routes;
    }
}
