using System.Collections.Concurrent;
using System.Diagnostics;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>
/// Sends one claimed delivery (the claim carries its payload, endpoint URL and secret) and hands
/// the answer to <see cref="DeliveryLedger"/>, which records the attempt, the delivery's new state
/// and the endpoint's health in a batch with the others that finished meanwhile. A failed attempt
/// makes the row due again at its retry time, where the dispatcher finds it; the last one fails
/// the delivery.
/// </summary>
public sealed class DeliveryProcessor(
    DeliveryLedger ledger,
    IDeliveryQueue queue,
    WebhookSender sender,
    EndpointSecrets secrets,
    IOptionsMonitor<DeliveryOptions> options,
    TimeProvider clock)
{
    /// <summary>Unprotected endpoint secrets by their protected form: a rotation changes the key, so nothing stale is ever used.</summary>
    private readonly ConcurrentDictionary<string, string> _secrets = new();

    /// <summary>
    /// What one send left: how long its endpoint's lane should pause when the endpoint asked to
    /// slow down, and the recording of its attempt, which finishes after the endpoint's answer
    /// (the lane sends its next delivery meanwhile).
    /// </summary>
    public sealed record Sent(TimeSpan? Pause, Task Recorded);

    private long _sends;
    private long _sendTicks;

    /// <summary>HTTP sends made and their wall time from request to answer, added up, since the process started.</summary>
    public (long Sends, TimeSpan SendTime) Figures => (Interlocked.Read(ref _sends), TimeSpan.FromTicks(Interlocked.Read(ref _sendTicks)));

    /// <summary>Sends one claim and starts recording its attempt.</summary>
    public async Task<Sent> ProcessAsync(DeliveryClaim claim, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        if (claim.EndpointDeleted || claim.EndpointStatus == EndpointStatus.Disabled)
        {
            var reason = claim.EndpointDeleted ? "endpoint deleted" : $"endpoint disabled: {claim.DisabledReason}";
            return new Sent(null, ledger.FinishWithoutSendingAsync(claim, reason, clock.GetUtcNow().UtcDateTime));
        }

        SendResult result;
        var started = Stopwatch.GetTimestamp();
        try
        {
            result = await sender.SendAsync(claim.EndpointUrl, claim.EventId, Secrets(claim.SecretProtected, claim.PreviousSecretProtected), claim.PayloadJson, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutting down mid-request: nothing is recorded, the lease is released, the next run sends it.
            await queue.ReleaseAsync([claim]);
            return new Sent(null, Task.CompletedTask);
        }

        Interlocked.Add(ref _sendTicks, Stopwatch.GetElapsedTime(started).Ticks);
        Interlocked.Increment(ref _sends);
        var recorded = ledger.RecordAsync(claim, result);
        return new Sent(result.AsksToSlowDown ? LanePause(result.RetryAfter, settings) : null, recorded);
    }

    /// <summary>The longest a lane pauses for one "slow down" answer, whatever Retry-After says (the delivery itself waits as long as asked, within the schedule).</summary>
    public static readonly TimeSpan MaxLanePause = TimeSpan.FromSeconds(30);

    private static TimeSpan LanePause(TimeSpan? retryAfter, DeliveryOptions settings) =>
        retryAfter is { } asked ? (asked > MaxLanePause ? MaxLanePause : asked) : settings.SlowDownPause;

    /// <summary>
    /// When the next attempt is due: the schedule's delay with jitter, but never earlier than a
    /// <c>Retry-After</c> of a 429 or 503 says, and never later than the schedule's last delay.
    /// </summary>
    public static TimeSpan RetryDelay(SendResult result, int attempts, DeliveryOptions settings)
    {
        var delays = settings.ParsedRetryDelays;
        var delay = Jittered(delays[Math.Min(attempts, delays.Count) - 1], settings.Jitter);
        if (result.ResponseStatus is 429 or 503 && result.RetryAfter is { } asked && asked > delay)
        {
            delay = asked > delays[^1] ? delays[^1] : asked;
        }

        return delay;
    }

    /// <summary>The secrets that sign: the current one, and the previous one during a rotation's grace period.</summary>
    private string[] Secrets(string current, string? previous) =>
        previous is null ? [Secret(current)] : [Secret(current), Secret(previous)];

    private string Secret(string protectedSecret)
    {
        if (_secrets.TryGetValue(protectedSecret, out var secret))
        {
            return secret;
        }

        if (_secrets.Count > 10_000)
        {
            _secrets.Clear();
        }

        return _secrets[protectedSecret] = secrets.Unprotect(protectedSecret);
    }

    /// <summary>Sends now, outside the retry schedule (the test endpoint). The caller records the outcome.</summary>
    public Task<SendResult> SendOnceAsync(WebhookEndpoint endpoint, string messageId, string body, CancellationToken cancellationToken) =>
        sender.SendAsync(endpoint.Url, messageId, Secrets(endpoint.SecretProtected, endpoint.PreviousSecretStillSigning(clock.GetUtcNow().UtcDateTime)), body, cancellationToken);

    private static TimeSpan Jittered(TimeSpan delay, double jitter) =>
        jitter <= 0 ? delay : TimeSpan.FromTicks((long)(delay.Ticks * (1 + ((Random.Shared.NextDouble() * 2) - 1) * jitter)));
}
