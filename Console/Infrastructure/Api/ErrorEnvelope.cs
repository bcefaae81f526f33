using System.Text.Json;

namespace DeliveryConsole.Infrastructure.Api;

/// <summary>
/// How one API group writes errors. The groups come from different reference documents, so
/// they keep different shapes (API-CONTRACT.md): the envelope is endpoint metadata, found by
/// the group's error filter and by the rate limiter.
/// </summary>
public abstract class ErrorEnvelope(JsonSerializerOptions json)
{
    public JsonSerializerOptions Json { get; } = json;

    /// <summary>Account webhooks and calls: <c>{"detail": "…"}</c>, validation 422 with a list of locations.</summary>
    public static readonly ErrorEnvelope Detail = new DetailEnvelope(ApiJson.CamelCase);

    /// <summary>Applications, callbacks, events and keys: <c>{"error": "…", "code": "NOT_FOUND"}</c>.</summary>
    public static readonly ErrorEnvelope Code = new CodeEnvelope(ApiJson.CamelCase);

    /// <summary>Callbacks use the same shape with snake_case bodies.</summary>
    public static readonly ErrorEnvelope CodeSnake = new CodeEnvelope(ApiJson.SnakeCase);

    /// <summary>Calls: the detail shape with snake_case bodies.</summary>
    public static readonly ErrorEnvelope DetailSnake = new DetailEnvelope(ApiJson.SnakeCase);

    /// <summary>Campaigns: <c>{"success": false, "error": {"code": "…", "message": "…"}}</c>.</summary>
    public static readonly ErrorEnvelope SuccessFalse = new SuccessFalseEnvelope(ApiJson.SnakeCase);

    public abstract IResult Error(int status, string message);

    public abstract IResult Validation(ValidationException exception);

    public IResult From(AppException exception) => exception is ValidationException validation
        ? Validation(validation)
        : Error(exception.StatusCode, exception.Message);

    public static string CodeFor(int status) => status switch
    {
        400 => "BAD_REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        409 => "CONFLICT",
        405 => "METHOD_NOT_ALLOWED",
        413 => "PAYLOAD_TOO_LARGE",
        414 => "URI_TOO_LONG",
        415 => "UNSUPPORTED_MEDIA_TYPE",
        431 => "HEADERS_TOO_LARGE",
        422 => "UNPROCESSABLE_ENTITY",
        429 => "TOO_MANY_REQUESTS",
        >= 400 and < 500 => "BAD_REQUEST",
        _ => "INTERNAL_ERROR",
    };

    private sealed class DetailEnvelope(JsonSerializerOptions json) : ErrorEnvelope(json)
    {
        public override IResult Error(int status, string message) =>
            TypedResults.Json(new { detail = message }, Json, statusCode: status);

        public override IResult Validation(ValidationException exception) =>
            TypedResults.Json(
                new { detail = exception.Errors.Select(e => new { loc = e.Location, msg = e.Message, type = e.Type }) },
                Json,
                statusCode: StatusCodes.Status422UnprocessableEntity);
    }

    private sealed class CodeEnvelope(JsonSerializerOptions json) : ErrorEnvelope(json)
    {
        public override IResult Error(int status, string message) =>
            TypedResults.Json(new { error = status == 401 ? "Unauthorized" : message, code = CodeFor(status) }, Json, statusCode: status);

        public override IResult Validation(ValidationException exception) =>
            Error(StatusCodes.Status400BadRequest, exception.Message);
    }

    private sealed class SuccessFalseEnvelope(JsonSerializerOptions json) : ErrorEnvelope(json)
    {
        public override IResult Error(int status, string message) =>
            TypedResults.Json(new { success = false, error = new { code = CodeFor(status), message } }, Json, statusCode: status);

        public override IResult Validation(ValidationException exception) =>
            TypedResults.Json(
                new { success = false, error = new { code = "VALIDATION_ERROR", message = exception.Message } },
                Json,
                statusCode: StatusCodes.Status400BadRequest);
    }
}
