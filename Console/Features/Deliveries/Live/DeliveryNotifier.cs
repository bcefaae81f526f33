using DeliveryConsole.Infrastructure;

namespace DeliveryConsole.Features.Deliveries.Live;

/// <summary>
/// Signal that deliveries of a workspace changed (created, attempted, resent, finished). Raised
/// after the change has committed; open pages subscribe and reload, debounced. Pages open on other
/// nodes hear it too (<see cref="IClusterSignals"/>).
/// </summary>
public sealed class DeliveryNotifier
{
    private readonly IClusterSignals? _cluster;

    public DeliveryNotifier(IClusterSignals? cluster = null)
    {
        _cluster = cluster;
        cluster?.Subscribe(ClusterChannels.Live, payload =>
        {
            if (Guid.TryParse(payload, out var workspaceId))
            {
                NotifyHere(workspaceId);
            }
        });
    }

    public event Action<Guid>? Changed;

    public void Notify(Guid workspaceId)
    {
        NotifyHere(workspaceId);
        _cluster?.Publish(ClusterChannels.Live, workspaceId.ToString("D"));
    }

    private void NotifyHere(Guid workspaceId)
    {
        var handlers = Changed;
        if (handlers is null)
        {
            return;
        }

        foreach (var handler in handlers.GetInvocationList().Cast<Action<Guid>>())
        {
            try
            {
                handler(workspaceId);
            }
            catch (Exception)
            {
                // A subscriber's failure (a page being torn down) must not reach the writer.
            }
        }
    }
}

/// <summary>
/// Subscribes to <see cref="DeliveryNotifier"/> for one workspace and calls back at most once per
/// <paramref name="delay"/>, after the burst has been quiet for it (trailing debounce with a ceiling).
/// </summary>
public sealed class DebouncedSubscription : IDisposable
{
    private readonly DeliveryNotifier _notifier;
    private readonly Guid _workspaceId;
    private readonly Func<Task> _callback;
    private readonly Timer _timer;
    private readonly TimeSpan _delay;
    private int _pending;

    public DebouncedSubscription(DeliveryNotifier notifier, Guid workspaceId, TimeSpan delay, Func<Task> callback)
    {
        _notifier = notifier;
        _workspaceId = workspaceId;
        _callback = callback;
        _delay = delay;
        _timer = new Timer(_ => Fire(), null, Timeout.Infinite, Timeout.Infinite);
        _notifier.Changed += OnChanged;
    }

    private void OnChanged(Guid workspaceId)
    {
        if (workspaceId == _workspaceId && Interlocked.Exchange(ref _pending, 1) == 0)
        {
            _timer.Change(_delay, Timeout.InfiniteTimeSpan);
        }
    }

    private void Fire()
    {
        Interlocked.Exchange(ref _pending, 0);
        _ = _callback();
    }

    public void Dispose()
    {
        _notifier.Changed -= OnChanged;
        _timer.Dispose();
    }
}
