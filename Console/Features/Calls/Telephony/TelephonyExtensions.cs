using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Api;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Calls.Telephony;

public static class TelephonyExtensions
{
    /// <summary>The provider named by <c>Telephony:Provider</c>, its options validated at start.</summary>
    public static IServiceCollection AddTelephony(this IServiceCollection services)
    {
        services.AddOptions<TelephonyOptions>().BindConfiguration(TelephonyOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<CallLifecycle>();
        services.AddSingleton<SimulatedTelephony>();
        services.AddSingleton<HttpTelephony>();
        services.AddSingleton<ITelephonyProvider>(sp => sp.GetRequiredService<IOptions<TelephonyOptions>>().Value.IsHttp
            ? sp.GetRequiredService<HttpTelephony>()
            : sp.GetRequiredService<SimulatedTelephony>());
        // The provider is reached like any other outbound target: through the SSRF guard.
        services.AddHttpClient(HttpTelephony.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(sp => new SocketsHttpHandler
            {
                ConnectCallback = sp.GetRequiredService<SsrfGuard>().ConnectAsync,
                AllowAutoRedirect = false,
                UseCookies = false,
                UseProxy = false,
            });
        return services;
    }

    /// <summary>
    /// Recordings by signed link (<c>/v1/recordings/{callId}?token=…</c>, the link in payloads is the
    /// authorization) and for signed-in console users (<c>/calls/{id}/recording.wav</c>), with Range support.
    /// </summary>
    public static IEndpointRouteBuilder MapRecordingLinks(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/v1/recordings/{callId}", async (string callId, string? token, RecordingLinkSigner signer, CallService calls, CancellationToken cancellationToken) =>
        {
            callId = callId.EndsWith(".wav", StringComparison.OrdinalIgnoreCase) ? callId[..^4] : callId;
            if (token is null || signer.WorkspaceOf(callId, token) is not { } workspaceId)
            {
                return Results.Json(new { detail = "This recording link is invalid or has expired." }, statusCode: StatusCodes.Status403Forbidden);
            }

            return await calls.RecordingFileForLinkAsync(workspaceId, callId, cancellationToken) is { } file
                ? Results.File(file, "audio/wav", enableRangeProcessing: true)
                : Results.Json(new { detail = "This call has no recording yet." }, statusCode: StatusCodes.Status404NotFound);
        }).AllowAnonymous().ExcludeFromDescription();

        routes.MapGet("/calls/{id}/recording.wav", async (string id, HttpContext http, CallService calls) =>
        {
            if (Caller.FromPrincipal(http.User) is not { } caller)
            {
                return Results.Unauthorized();
            }

            try
            {
                var call = await calls.GetAsync(caller, id, http.RequestAborted);
                return calls.RecordingFile(call) is { } file ? Results.File(file, "audio/wav", enableRangeProcessing: true) : Results.NotFound();
            }
            catch (Infrastructure.NotFoundException)
            {
                return Results.NotFound();
            }
        }).RequireAuthorization().ExcludeFromDescription();

        // Where the Simulated provider's join links lead: there is no audio to stream, only the room.
        routes.MapGet("/simulated-telephony/join/{room}", (string room) =>
            Results.Text($"Simulated telephony: you are listening to {room}. The simulated provider carries no audio.", "text/plain"))
            .RequireAuthorization().ExcludeFromDescription();
        return routes;
    }

    /// <summary>
    /// POST /v1/telephony/events: the Http provider reports <c>{provider_call_id, status}</c> with
    /// <c>Authorization: Bearer {Telephony:EventsToken}</c>. A report about an unknown call, or one that
    /// would move a call backwards, is accepted and ignored (<c>changed: false</c>; reports can arrive late or twice).
    /// </summary>
    public static IEndpointRouteBuilder MapTelephonyEvents(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v1/telephony/events", async (HttpContext http, IOptionsMonitor<TelephonyOptions> options, CallLifecycle lifecycle) =>
        {
            var expected = options.CurrentValue.EventsToken;
            var given = http.Request.Headers.Authorization.ToString();
            if (string.IsNullOrEmpty(expected) || !given.StartsWith("Bearer ", StringComparison.Ordinal)
                || !CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given[7..]), Encoding.UTF8.GetBytes(expected)))
            {
                return Results.Json(new { detail = "Missing or invalid telephony events token." }, statusCode: StatusCodes.Status401Unauthorized);
            }

            JsonElement body;
            try
            {
                body = (await JsonBody.ReadAsync(http.Request)).Root;
            }
            catch (AppException exception)
            {
                return ErrorEnvelope.Detail.Error(exception.StatusCode, $"The body must be JSON: {{\"provider_call_id\", \"status\"}}. {exception.Message}");
            }

            var id = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("provider_call_id", out var p) && p.ValueKind == JsonValueKind.String ? p.GetString() : null;
            var status = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString()?.ToUpperInvariant() : null;
            if (string.IsNullOrWhiteSpace(id) || status is null || !CallStatus.All.Contains(status) || status == CallStatus.Scheduled)
            {
                return Results.Json(new { detail = $"provider_call_id and status ({string.Join(", ", CallStatus.All.Skip(1))}) are required." }, statusCode: StatusCodes.Status422UnprocessableEntity);
            }

            var changed = await lifecycle.ApplyAsync(id, status, cancellationToken: http.RequestAborted);
            return Results.Json(new { accepted = true, changed });
        }).AllowAnonymous().ExcludeFromDescription();
        return routes;
    }
}
