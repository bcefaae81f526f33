using DeliveryConsole.Features.Workspaces;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Api;

namespace DeliveryConsole.Features.Calls;

/// <summary>Group 3 (reference/calls.txt): snake_case, errors as <c>{"detail": …}</c>, validation 422.</summary>
public static class CallApi
{
    public static RouteGroupBuilder MapCallApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapApiGroup("/api/v1/calls", ErrorEnvelope.DetailSnake, "Calls");
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
        group.MapPost("/", CreateCall).WithName("CreateCall");
        group.MapGet("/{id}", GetCall).WithName("GetCall");
        return group;
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
        return builder;
    }

    public static IEndpointRouteBuilder MapCalls(this IEndpointRouteBuilder routes)
    {
        routes.MapCallApi();
        return routes;
    }
}
