using DeliveryConsole.Features.Access;

namespace DeliveryConsole.Infrastructure.Api;

/// <summary>
/// The one error writer of an API group: it refuses callers without a valid API key (401), and
/// turns every <see cref="AppException"/> into the group's envelope. Anything unexpected is
/// logged and answered as a 500 in the same envelope, without internals.
/// </summary>
public sealed class ApiGroupFilter(ErrorEnvelope envelope, ILogger<ApiGroupFilter> logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (Caller.FromPrincipal(http.User) is not { ActorType: "key" })
        {
            return envelope.Error(StatusCodes.Status401Unauthorized, "Missing, invalid or revoked API key. Send Authorization: Bearer <key>.");
        }

        try
        {
            return await next(context);
        }
        catch (AppException exception)
        {
            return envelope.From(exception);
        }
        catch (BadHttpRequestException exception)
        {
            return envelope.Error(exception.StatusCode, exception.Message);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty;
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Unhandled error on {Method} {Path} ({TraceId})", http.Request.Method, http.Request.Path, http.TraceIdentifier);
            return envelope.Error(StatusCodes.Status500InternalServerError, $"Internal error; nothing was changed. Reference: {http.TraceIdentifier}");
        }
    }
}

public static class ApiGroupExtensions
{
    public const string RateLimitPolicy = "api";

    /// <summary>Makes a route group an API group: key authentication, its envelope for errors, the per-key rate limit.</summary>
    internal static RouteGroupBuilder CreateApiGroup(IEndpointRouteBuilder routes, ApiGroup api)
    {
        var group = routes.MapGroup(api.Prefix);
        var filter = new ApiGroupFilter(api.Envelope, routes.ServiceProvider.GetRequiredService<ILogger<ApiGroupFilter>>());
        group.WithMetadata(api.Envelope)
            .WithTags(api.Tag)
            .AddEndpointFilter(filter)
            .RequireRateLimiting(RateLimitPolicy)
            .DisableAntiforgery()
            .WithErrorResponses(api.Envelope);
        return group;
    }

    public static Caller Caller(this HttpContext http) =>
        Features.Access.Caller.FromPrincipal(http.User) ?? throw new UnauthorizedException();
}
