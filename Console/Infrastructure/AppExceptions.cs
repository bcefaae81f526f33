namespace DeliveryConsole.Infrastructure;

/// <summary>
/// An expected failure with a message fit for the caller. Services throw these; each API group's
/// error filter turns them into that group's envelope, and the UI shows the message.
/// </summary>
public abstract class AppException(string message) : Exception(message)
{
    public abstract int StatusCode { get; }
}

public sealed class UnauthorizedException(string message = "Missing or invalid API key.") : AppException(message)
{
    public override int StatusCode => StatusCodes.Status401Unauthorized;
}

public sealed class ForbiddenException(string message) : AppException(message)
{
    public override int StatusCode => StatusCodes.Status403Forbidden;
}

public sealed class NotFoundException(string message) : AppException(message)
{
    public override int StatusCode => StatusCodes.Status404NotFound;
}

public sealed class ConflictException(string message) : AppException(message)
{
    public override int StatusCode => StatusCodes.Status409Conflict;
}

public sealed class PayloadTooLargeException(string message) : AppException(message)
{
    public override int StatusCode => StatusCodes.Status413PayloadTooLarge;
}

/// <summary>The console cannot take this request now; the caller retries (the response says when).</summary>
public sealed class ServiceBusyException(string message) : AppException(message)
{
    public override int StatusCode => StatusCodes.Status503ServiceUnavailable;
}

public sealed class UnsupportedMediaTypeException(string message) : AppException(message)
{
    public override int StatusCode => StatusCodes.Status415UnsupportedMediaType;
}

/// <summary>One thing wrong with the input: where (<c>["query","limit"]</c>, <c>["body","url"]</c>) and what.</summary>
public sealed record FieldError(string[] Location, string Message, string Type);

/// <summary>Input that does not satisfy the contract. Groups answer 400 or 422 as their reference says.</summary>
public sealed class ValidationException(IReadOnlyList<FieldError> errors)
    : AppException(string.Join("; ", errors.Select(e => $"{e.Location.Last()}: {e.Message}")))
{
    public IReadOnlyList<FieldError> Errors { get; } = errors;

    public override int StatusCode => StatusCodes.Status422UnprocessableEntity;

    public ValidationException(string location, string field, string message, string type = "value_error")
        : this([new FieldError([location, field], message, type)])
    {
    }
}
