using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Infrastructure;

/// <summary>
/// The loop of a sweep: once at start-up, then every <see cref="DeliveryOptions.SweepInterval"/>;
/// a failed pass is logged and the next one tries again. With several nodes, only the leader sweeps.
/// </summary>
public abstract class PeriodicSweep(IOptionsMonitor<DeliveryOptions> options, TimeProvider clock, ILogger logger, IClusterSignals? cluster = null) : BackgroundService
{
    protected IOptionsMonitor<DeliveryOptions> Options => options;

    protected TimeProvider Clock => clock;

    /// <summary>One pass over the database.</summary>
    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                // Several nodes on one database: one of them sweeps (a sweep is safe twice, only wasteful).
                if (cluster?.IsLeader ?? true)
                {
                    await RunOnceAsync(stoppingToken);
                }
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                logger.LogError(exception, "{Sweep} failed; retrying at the next interval", GetType().Name);
            }

            try
            {
                await Task.Delay(options.CurrentValue.SweepInterval, clock, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

/// <summary>
/// What a sweep enqueued lately, so it does not pile the same row into the queue every interval
/// while an earlier job for it still waits.
/// </summary>
public sealed class RecentlyEnqueued<TKey> where TKey : notnull
{
    private readonly Dictionary<TKey, DateTime> _at = [];

    /// <summary>Forgets what was enqueued longer than <paramref name="holdOff"/> ago.</summary>
    public void Forget(DateTime now, TimeSpan holdOff)
    {
        foreach (var stale in _at.Where(e => now - e.Value > holdOff).Select(e => e.Key).ToList())
        {
            _at.Remove(stale);
        }
    }

    /// <summary>True (and remembered) when <paramref name="key"/> was not enqueued lately.</summary>
    public bool TryAdd(TKey key, DateTime now) => _at.TryAdd(key, now);
}
