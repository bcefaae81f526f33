using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using DeliveryConsole.Features.Workspaces;
using DeliveryConsole.Infrastructure.Api;

namespace DeliveryConsole.Features.Callbacks;

/// <summary>Group 4 (reference/callbacks.txt): snake_case, errors as <c>{"error", "code"}</c>.</summary>
public static class CallbackApi
{
    public static RouteGroupBuilder MapCallbackApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapApiGroup(ApiGroups.Callbacks);
        group.MapGet("/", ListCallbacks).WithName("ListCallbacks").WithSummary("Callbacks, soonest first")
            .WithQuery(Status, SourceSession, Limit).Produces<CallbackList>();
        group.MapPost("/", CreateCallback).WithName("CreateCallback").WithSummary("Schedules a callback")
            .Accepts<CreateCallbackRequest>("application/json").Produces<CallbackResponse>(StatusCodes.Status201Created);
        group.MapGet("/{id}", GetCallback).WithName("GetCallback").WithSummary("One callback").Produces<CallbackResponse>();
        group.MapPost("/{id}/cancel", CancelCallback).WithName("CancelCallback").WithSummary("Cancels a scheduled callback (409 from any other status)")
            .Accepts<CancelCallbackRequest>("application/json").Produces<CallbackResponse>();
        group.MapPost("/{id}/dispatch", DispatchCallback).WithName("DispatchCallback")
            .WithSummary("Places the call now (scheduled or failed only; of racing dispatches exactly one wins)").Produces<CallbackResponse>();
        return group;
    }

    public static readonly QueryParam Status = QueryParam.OneOf("status", "Only callbacks in this status.", CallbackStatus.All);
    public static readonly QueryParam SourceSession = QueryParam.Text("source_session_id", "Only callbacks promised in this call.", 64);
    public static readonly QueryParam Limit = QueryParam.Integer("limit", "Callbacks to return.", 1, 100, 25);

    [SnakeCaseWire]
    public sealed record CallbackList(IReadOnlyList<CallbackResponse> Callbacks);

    /// <summary>source_session_id, when given, must be a call of the key's workspace (else 404).</summary>
    [SnakeCaseWire]
    public sealed record CreateCallbackRequest(
        [property: Required, RegularExpression(@"^\+[1-9]\d{7,14}$")] string ToNumber,
        [property: Required] DateTime ScheduledAt,
        [property: MaxLength(64)] string? SourceSessionId,
        [property: MaxLength(64)] string? AgentId,
        [property: MaxLength(64)] string? PhoneNumberId,
        [property: RegularExpression(@"^\+[1-9]\d{7,14}$")] string? FromNumber,
        [property: MaxLength(2000)] string? Reason,
        [property: MaxLength(8000)] string? Instructions,
        [property: MaxLength(8000)] string? Summary,
        JsonElement? PipelineConfig,
        JsonElement? Metadata);

    [SnakeCaseWire]
    public sealed record CancelCallbackRequest([property: MaxLength(2000)] string? Reason);

    [SnakeCaseWire]
    public sealed record CallbackResponse(
        string Id, string OrganizationId, string? SourceSessionId, string? CreatedSessionId, string? AgentId, string? PhoneNumberId,
        string ToNumber, string? FromNumber, DateTime ScheduledAt, string Status, string? Reason, string? Instructions, string? Summary,
        JsonElement PipelineConfig, JsonElement Metadata, string? FailureCause, DateTime? AttemptedAt, DateTime? DispatchedAt,
        DateTime? CancelledAt, DateTime CreatedAt, DateTime UpdatedAt)
    {
        public static CallbackResponse From(Callback c) => new(
            c.Id, Workspaces.OrganizationId.Of(c.WorkspaceId), c.SourceSessionId, c.CreatedSessionId, c.AgentId, c.PhoneNumberId,
            c.ToNumber, c.FromNumber, c.ScheduledAt, c.Status, c.Reason, c.Instructions, c.Summary,
            Parse(c.PipelineConfigJson), Parse(c.MetadataJson), c.FailureCause, c.AttemptedAt, c.DispatchedAt, c.CancelledAt, c.CreatedAt, c.UpdatedAt);

        private static JsonElement Parse(string json) => JsonDocument.Parse(json).RootElement.Clone();
    }

    public static async Task<IResult> ListCallbacks(HttpContext http, CallbackService callbacks)
    {
        var caller = http.Caller();
        var query = new QueryReader(http.Request.Query);
        var status = query.OneOf(Status);
        var source = query.String(SourceSession);
        var limit = query.Int(Limit);
        query.ThrowIfInvalid();
        var items = await callbacks.ListAsync(caller, status, source, limit, http.RequestAborted);
        return TypedResults.Json(new CallbackList(items.Select(CallbackResponse.From).ToList()), ApiJson.SnakeCase);
    }

    public static async Task<IResult> CreateCallback(HttpContext http, CallbackService callbacks)
    {
        var caller = http.Caller();
        caller.Require(Access.Role.Operator);
        var body = await JsonBody.ReadAsync(http.Request);
        var request = new NewCallback(
            body.PhoneNumber("to_number", required: true)!,
            body.Timestamp("scheduled_at", required: true) ?? default,
            body.String("source_session_id", maxLength: 64),
            body.String("agent_id", maxLength: 64),
            body.String("phone_number_id", maxLength: 64),
            body.PhoneNumber("from_number"),
            body.String("reason", maxLength: 2000),
            body.String("instructions", maxLength: 8000),
            body.String("summary", maxLength: 8000),
            body.ObjectJson("pipeline_config", defaultJson: "{}")!,
            body.ObjectJson("metadata", defaultJson: "{}")!);
        body.ThrowIfInvalid();
        var callback = await callbacks.CreateAsync(caller, request, http.RequestAborted);
        // Created as asked; a number that already had a scheduled callback is said in headers, the body staying the reference's.
        if (await callbacks.ScheduledForNumberAsync(caller, callback.ToNumber, callback.Id, http.RequestAborted) is { Count: > 0 } others)
        {
            http.Response.Headers["X-Duplicate-Callbacks"] = string.Join(",", others.Select(o => o.Id));
            http.Response.Headers.Warning = $"199 - \"{callback.ToNumber} already has {others.Count} scheduled callback{(others.Count == 1 ? "" : "s")}, the next at {others[0].ScheduledAt:yyyy-MM-ddTHH:mm:ssZ}\"";
        }

        return TypedResults.Json(CallbackResponse.From(callback), ApiJson.SnakeCase, statusCode: StatusCodes.Status201Created);
    }

    public static async Task<IResult> GetCallback(HttpContext http, string id, CallbackService callbacks) =>
        TypedResults.Json(CallbackResponse.From(await callbacks.GetAsync(http.Caller(), id, http.RequestAborted)), ApiJson.SnakeCase);

    public static async Task<IResult> CancelCallback(HttpContext http, string id, CallbackService callbacks)
    {
        var caller = http.Caller();
        caller.Require(Access.Role.Operator);
        var body = await JsonBody.ReadAsync(http.Request, allowEmpty: true);
        var reason = body.String("reason", maxLength: 2000);
        body.ThrowIfInvalid();
        var callback = await callbacks.CancelAsync(caller, id, reason, http.RequestAborted);
        return TypedResults.Json(CallbackResponse.From(callback), ApiJson.SnakeCase);
    }

    public static async Task<IResult> DispatchCallback(HttpContext http, string id, CallbackService callbacks)
    {
        var caller = http.Caller();
        caller.Require(Access.Role.Operator);
        var callback = await callbacks.DispatchAsync(caller, id, http.RequestAborted);
        return TypedResults.Json(CallbackResponse.From(callback), ApiJson.SnakeCase);
    }
}

public static class CallbacksExtensions
{
    public static IHostApplicationBuilder AddCallbacks(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<CallbackService>();
        builder.Services.AddTransient<CallbackDispatchJob>();
        builder.Services.AddSingleton<CallbackSweeper>();
        builder.Services.AddHostedService(services => services.GetRequiredService<CallbackSweeper>());
        return builder;
    }

    public static IEndpointRouteBuilder MapCallbacks(this IEndpointRouteBuilder routes)
    {
        routes.MapCallbackApi();
        return routes;
    }
}
