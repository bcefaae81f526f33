using System.ComponentModel.DataAnnotations;
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
        group.MapGet("/", ListCalls).WithName("ListCalls").WithSummary("Calls of the organization")
            .WithQuery(Status, TimePeriod, StartDate, EndDate, Search, Page, PageSize, OrderBy, OrderDesc).Produces<CallPage>();
        group.MapPost("/", CreateCall).WithName("CreateCall").WithSummary("Creates and dials an outbound call (409 with the provider's reason when refused)")
            .Accepts<CreateCallRequest>("application/json").Produces<CallResponse>(StatusCodes.Status201Created);
        group.MapGet("/{id}", GetCall).WithName("GetCall").WithSummary("One call").Produces<CallResponse>();
        group.MapPost("/{id}/join", JoinCall).WithName("JoinCall").WithSummary("A link to listen in on a live call (409 otherwise)").Produces<JoinResponse>();
        group.MapPost("/{id}/end", EndCall).WithName("EndCall").WithSummary("Ends a live call; emits call.completed (409 if already ended)").Produces<CallResponse>();
        group.MapGet("/{id}/recording", GetRecording).WithName("GetCallRecording").WithSummary("The call's recording (Range requests supported)")
            .Produces<Stream>(StatusCodes.Status200OK, "audio/wav").Produces<Stream>(StatusCodes.Status206PartialContent, "audio/wav");
        return group;
    }

    public static readonly QueryParam Status = QueryParam.OneOf("status", "Only calls in this status.", CallStatus.All);
    public static readonly QueryParam TimePeriod = QueryParam.OneOf("time_period", "Calls created in this period (UTC days); custom needs start_date and end_date.", CallQuery.TimePeriods);
    public static readonly QueryParam StartDate = QueryParam.Day("start_date", "First day (YYYY-MM-DD), inclusive.");
    public static readonly QueryParam EndDate = QueryParam.Day("end_date", "Last day (YYYY-MM-DD), inclusive.");
    public static readonly QueryParam Search = QueryParam.Text("search", "Phone numbers, call type, load number or id, call id.", 200);
    public static readonly QueryParam Page = QueryParam.Integer("page", "Page number, from 1.", 1, int.MaxValue, 1);
    public static readonly QueryParam PageSize = QueryParam.Integer("page_size", "Calls per page.", 1, 100, 20);
    public static readonly QueryParam OrderBy = QueryParam.OneOf("order_by", "Sort field.", CallQuery.OrderFields, "created_at");
    public static readonly QueryParam OrderDesc = QueryParam.Flag("order_desc", "Newest (largest) first.", true);

    [SnakeCaseWire]
    public sealed record CallPagination(int Page, int PageSize, long TotalCount, int TotalPages, bool HasNext, bool HasPrev);

    [SnakeCaseWire]
    public sealed record CallPage(IReadOnlyList<CallResponse> Data, CallPagination Pagination);

    [SnakeCaseWire]
    public sealed record JoinResponse(string JoinUrl, DateTime ExpiresAt);

    [SnakeCaseWire]
    public sealed record CreateCallRequest(
        [property: Required, RegularExpression(@"^\+[1-9]\d{7,14}$")] string ToNumber,
        [property: RegularExpression(@"^\+[1-9]\d{7,14}$")] string? FromNumber,
        DateTime? CallTime,
        [property: MaxLength(100)] string? CallType,
        [property: MaxLength(64)] string? LoadId,
        [property: MaxLength(64)] string? LoadNumber);

    public static async Task<IResult> ListCalls(HttpContext http, CallService calls, TimeProvider clock)
    {
        var query = new QueryReader(http.Request.Query);
        var status = query.OneOf(Status);
        var period = query.OneOf(TimePeriod);
        var start = query.Date(StartDate);
        var end = query.Date(EndDate);
        var search = query.String(Search);
        var page = query.Int(Page);
        var pageSize = query.Int(PageSize);
        var orderBy = query.OneOf(OrderBy)!;
        var orderDesc = query.Bool(OrderDesc);
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
        return TypedResults.Json(
            new CallPage(items.Select(CallResponse.From).ToList(), new CallPagination(page, pageSize, total, totalPages, page < totalPages, page > 1)),
            ApiJson.SnakeCase);
    }

    public static async Task<IResult> JoinCall(HttpContext http, string id, CallService calls)
    {
        var joined = await calls.JoinAsync(http.Caller(), id, http.RequestAborted);
        return TypedResults.Json(new JoinResponse(joined.JoinUrl, joined.ExpiresAt), ApiJson.SnakeCase);
    }

    public static async Task<IResult> EndCall(HttpContext http, string id, CallService calls) =>
        TypedResults.Json(CallResponse.From(await calls.EndAsync(http.Caller(), id, http.RequestAborted)), ApiJson.SnakeCase);

    public static async Task<IResult> GetRecording(HttpContext http, string id, CallService calls)
    {
        var call = await calls.GetAsync(http.Caller(), id, http.RequestAborted);
        var file = calls.RecordingFile(call) ?? throw new NotFoundException("This call has no recording yet.");
        return TypedResults.PhysicalFile(file, "audio/wav", $"{call.Id}.wav", enableRangeProcessing: true);
    }

    [SnakeCaseWire]
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
