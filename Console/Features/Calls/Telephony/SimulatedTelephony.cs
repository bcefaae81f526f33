using System.Collections.Concurrent;
using DeliveryConsole.Data;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Calls.Telephony;

/// <summary>
/// The embedded provider: a dialled call rings, is answered or not (by chance), runs for a while
/// and ends, on timers; an answered call leaves a short WAV recording in the data folder. Numbers
/// listed in <see cref="TelephonyOptions.RefuseNumbers"/> are refused at dial time.
/// </summary>
public sealed class SimulatedTelephony(
    CallLifecycle lifecycle,
    IOptionsMonitor<TelephonyOptions> options,
    IOptionsMonitor<DeliveryOptions> delivery,
    IOptions<DatabaseOptions> database,
    TimeProvider clock,
    IHostApplicationLifetime lifetime,
    ILogger<SimulatedTelephony> logger) : ITelephonyProvider
{
    private readonly ConcurrentDictionary<string, CancellationTokenSource> _live = new();

    public Task<DialResult> DialAsync(Call call, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        if (settings.RefuseNumbers.Contains(call.ToNumber))
        {
            throw new TelephonyException($"The provider refused to dial {call.ToNumber} (simulated refusal).");
        }

        var providerCallId = "sim_" + Guid.NewGuid().ToString("N");
        var stop = CancellationTokenSource.CreateLinkedTokenSource(lifetime.ApplicationStopping);
        _live[providerCallId] = stop;
        _ = Task.Run(() => RunAsync(call.Id, providerCallId, settings, stop.Token), CancellationToken.None);
        return Task.FromResult(new DialResult(providerCallId));
    }

    public async Task EndAsync(Call call, CancellationToken cancellationToken)
    {
        if (call.ProviderCallId is { } id && _live.TryRemove(id, out var stop))
        {
            await stop.CancelAsync();
        }

        await lifecycle.ApplyToCallAsync(call.Id, CallStatus.Completed, call.CallStartTime is null ? null : WriteRecording(call.Id), cancellationToken);
    }

    public Task<JoinResult> JoinAsync(Call call, CancellationToken cancellationToken)
    {
        var expires = clock.GetUtcNow().UtcDateTime.AddMinutes(10);
        var room = Uri.EscapeDataString(call.ProviderCallId ?? call.Id);
        return Task.FromResult(new JoinResult($"{delivery.CurrentValue.PublicBaseUrl.TrimEnd('/')}/simulated-telephony/join/{room}?listen=1", expires));
    }

    private async Task RunAsync(string callId, string providerCallId, TelephonyOptions settings, CancellationToken stop)
    {
        try
        {
            await lifecycle.ApplyToCallAsync(callId, CallStatus.Ringing, cancellationToken: stop);
            await Task.Delay(TimeSpan.FromSeconds(settings.RingSeconds), clock, stop);
            if (Random.Shared.NextDouble() >= settings.AnswerProbability)
            {
                await lifecycle.ApplyToCallAsync(callId, CallStatus.NoAnswer, cancellationToken: stop);
                return;
            }

            await lifecycle.ApplyToCallAsync(callId, CallStatus.InProgress, cancellationToken: stop);
            var seconds = settings.MinDurationSeconds + (Random.Shared.NextDouble() * (settings.MaxDurationSeconds - settings.MinDurationSeconds));
            await Task.Delay(TimeSpan.FromSeconds(seconds), clock, stop);
            await lifecycle.ApplyToCallAsync(callId, CallStatus.Completed, WriteRecording(callId), stop);
        }
        catch (OperationCanceledException)
        {
            // Ended by a person (EndAsync records it) or the console is stopping; the call stays as it is.
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Simulated call {CallId} failed", callId);
        }
        finally
        {
            _live.TryRemove(providerCallId, out _);
        }
    }

    /// <summary>Writes the call's recording (<see cref="RecordingTone"/>) and returns its path relative to the data folder.</summary>
    private string WriteRecording(string callId)
    {
        var relative = Path.Combine("recordings", $"{callId}.wav");
        RecordingTone.Write(Path.Combine(database.Value.DataFolder, relative));
        return relative;
    }
}
