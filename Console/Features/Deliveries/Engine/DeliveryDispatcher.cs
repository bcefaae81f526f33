using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>
/// Sends due deliveries. One loop claims batches from <see cref="IDeliveryQueue"/> (woken at once
/// when a publish or resend commits, and at the next due time for retries) into per-endpoint
/// lanes. A lane sends at most <see cref="DeliveryOptions.MaxConcurrencyPerEndpoint"/> at once
/// and keeps up to three times as many claimed and waiting, so a fast endpoint never waits for a
/// claim round trip; a lane that holds that many is left out of the next claim, so a slow
/// endpoint holds only its own lane and the others keep their pace. All lanes together hold at
/// most <see cref="DeliveryOptions.MaxInFlight"/>. Each delivery is sent and recorded by
/// <see cref="DeliveryProcessor"/>.
/// Freshly published deliveries skip the claim when their lane has room: publishing stores them
/// already leased to this node and hands them over once committed (<see cref="Reserve"/>,
/// <see cref="HandOver"/>), so the common case costs no claim statement and no round trip through
/// the due index; what does not fit is stored due and claimed as usual.
/// </summary>
public sealed class DeliveryDispatcher(
    IDeliveryQueue queue,
    IDeliveryWakeup wakeup,
    DeliveryProcessor processor,
    NodeIdentity node,
    IOptionsMonitor<DeliveryOptions> options,
    TimeProvider clock,
    ILogger<DeliveryDispatcher> logger)
{
    /// <summary>Longest wait between looks at the queue when nothing woke the loop (other nodes' work, expired leases).</summary>
    private static readonly TimeSpan IdleLook = TimeSpan.FromSeconds(2);

    /// <summary>How soon to look again when something is due that the last claim did not take.</summary>
    private static readonly TimeSpan ShortLook = TimeSpan.FromMilliseconds(25);

    /// <summary>Most claimed in one batch.</summary>
    private const int MaxBatch = 256;

    private sealed class Lane
    {
        public readonly Queue<DeliveryClaim> Waiting = new();
        public int Sending;

        /// <summary>Places taken by publishes whose rows are being committed (<see cref="Reserve"/>).</summary>
        public int Reserved;

        /// <summary>The endpoint asked to slow down (429, 502, 503, 504): nothing more is sent to it before then.</summary>
        public DateTime PausedUntil;

        public int Held => Waiting.Count + Sending + Reserved;
    }

    private readonly Dictionary<Guid, Lane> _lanes = [];
    private readonly HashSet<Task> _tasks = [];
    private readonly object _gate = new();
    private int _held;
    private CancellationToken _stoppingToken;

    /// <summary>The last wait ended by its timeout, not by a wake-up.</summary>
    private bool _quiet;

    /// <summary>Rows may be due that no claim has taken yet (told so while every place was taken, or the last claim was full).</summary>
    private bool _backlog = true;

    /// <summary>The earliest due time known of the rows waiting in the database (null: none known).</summary>
    private DateTime? _nextDue;

    /// <summary>The loop runs and takes hand-overs (from the start of <see cref="RunAsync"/> until its drain).</summary>
    private bool _running;

    /// <summary>Deliveries this process holds now (sending or claimed and waiting for their lane).</summary>
    public int Held
    {
        get
        {
            lock (_gate)
            {
                return _held;
            }
        }
    }

    /// <summary>Runs until <paramref name="stoppingToken"/> is cancelled, then drains (see <see cref="DeliveryDispatcherProcess"/>).</summary>
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        _stoppingToken = stoppingToken;
        await Task.Yield();
        lock (_gate)
        {
            _running = !stoppingToken.IsCancellationRequested;
        }

        if (node.OwnsEarlierRuns && await RetryAsync(() => queue.TakeBackAsync(node.NodePrefix, node.LeaseOwner, stoppingToken), stoppingToken) is > 0 and var taken)
        {
            logger.LogInformation("Took back {Count} deliveries claimed by an earlier run of this node", taken);
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await CycleAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception exception)
            {
                logger.LogError(exception, "Delivery dispatcher cycle failed; trying again shortly");
                await wakeup.WaitAsync(TimeSpan.FromMilliseconds(500), stoppingToken);
            }
        }

        await DrainAsync();
    }

    private async Task CycleAsync(CancellationToken stoppingToken)
    {
        var settings = options.CurrentValue;
        var perLane = PerLane(settings);
        int free;
        List<Guid> full;
        lock (_gate)
        {
            free = Math.Min(MaxBatch, settings.MaxInFlight - _held);
            var now = clock.GetUtcNow().UtcDateTime;
            full = _lanes.Where(l => l.Value.Held >= perLane || l.Value.PausedUntil > now).Select(l => l.Key).ToList();
            foreach (var (endpointId, lane) in _lanes.Where(l => l.Value.PausedUntil != default && l.Value.PausedUntil <= now).ToList())
            {
                // A pause is over: the lane sends what waited.
                lane.PausedUntil = default;
                Pump(endpointId, lane, settings);
                if (lane.Held == 0)
                {
                    _lanes.Remove(endpointId);
                }
            }
        }

        // What is known to be due: told by publishes and resends (Wake) and by the ledger when it
        // schedules a retry (DueAt); after a quiet wait (nothing woke the loop), one read of the
        // database (other nodes' work, expired leases). A loop woken only because places freed up
        // claims only when rows are known to wait: a claim is a write transaction.
        var woken = wakeup.TakeWake();
        if (wakeup.TakeDueAt() is { } dueAt && (_nextDue is null || dueAt < _nextDue))
        {
            _nextDue = dueAt;
        }

        if (_quiet)
        {
            _nextDue = await queue.NextDueAsync(stoppingToken);
        }

        _backlog |= woken;
        if (free > 0 && (_backlog || _nextDue <= clock.GetUtcNow().UtcDateTime))
        {
            var claims = await queue.ClaimAsync(free, perLane, full, node.LeaseOwner, settings.Lease, stoppingToken);
            Admit(claims, settings);
            if (claims.Count == free)
            {
                _quiet = false;
                return; // a full batch: there is likely more, look again at once
            }

            // Everything due that this claim could take was taken: what is left is due later, or waits for a full lane.
            _backlog = false;
            _nextDue = await queue.NextDueAsync(stoppingToken);
        }

        var next = _nextDue;
        lock (_gate)
        {
            // A paused lane resumes on time too.
            foreach (var lane in _lanes.Values.Where(l => l.PausedUntil != default))
            {
                next = next is { } n && n < lane.PausedUntil ? n : lane.PausedUntil;
            }
        }

        var wait = next is { } due ? due - clock.GetUtcNow().UtcDateTime : IdleLook;
        if (wait <= TimeSpan.Zero)
        {
            // Due now but not in this claim: it became due just after it, or its lane (or every place)
            // is full, when a finished send wakes the loop anyway. Look again shortly.
            wait = ShortLook;
        }

        _quiet = !await wakeup.WaitAsync(wait > IdleLook ? IdleLook : wait, stoppingToken);
    }

    /// <summary>Puts claims into their lanes and starts what the lanes allow.</summary>
    private void Admit(IReadOnlyList<DeliveryClaim> claims, DeliveryOptions settings)
    {
        lock (_gate)
        {
            foreach (var claim in claims)
            {
                if (!_lanes.TryGetValue(claim.EndpointId, out var lane))
                {
                    _lanes[claim.EndpointId] = lane = new Lane();
                }

                lane.Waiting.Enqueue(claim);
                _held++;
                Pump(claim.EndpointId, lane, settings);
            }
        }
    }

    /// <summary>Starts waiting claims of a lane while it has free senders. Holds the gate.</summary>
    private void Pump(Guid endpointId, Lane lane, DeliveryOptions settings)
    {
        if (lane.PausedUntil > clock.GetUtcNow().UtcDateTime)
        {
            return;
        }

        while (lane.Sending < settings.MaxConcurrencyPerEndpoint && lane.Waiting.TryDequeue(out var claim))
        {
            lane.Sending++;
            var task = Task.Run(() => processor.ProcessAsync(claim, _stoppingToken));
            _tasks.Add(task);
            task.ContinueWith(Sent, endpointId, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>
    /// A send finished: its lane's place is free at once (the next delivery of the endpoint goes
    /// out while this attempt is recorded); the delivery still counts against
    /// <see cref="DeliveryOptions.MaxInFlight"/> until its attempt is recorded.
    /// </summary>
    private void Sent(Task<DeliveryProcessor.Sent> task, object? state)
    {
        var endpointId = (Guid)state!;
        var settings = options.CurrentValue;
        bool refill;
        var recorded = task.IsCompletedSuccessfully ? task.Result.Recorded : Task.CompletedTask;
        lock (_gate)
        {
            _tasks.Remove(task);
            _tasks.Add(recorded);
            var lane = _lanes[endpointId];
            lane.Sending--;
            if (task is { IsCompletedSuccessfully: true, Result.Pause: { } pause })
            {
                var until = clock.GetUtcNow().UtcDateTime + pause;
                lane.PausedUntil = until > lane.PausedUntil ? until : lane.PausedUntil;
            }

            Pump(endpointId, lane, settings);
            RemoveIfIdle(endpointId, lane);

            // Claim more when this lane runs low on waiting work.
            refill = lane.Waiting.Count <= settings.MaxConcurrencyPerEndpoint;
        }

        if (task.Exception is { } exception)
        {
            logger.LogError(exception.GetBaseException(), "Sending a delivery failed unexpectedly; its lease expires and it is sent again");
        }

        recorded.ContinueWith(Recorded, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        if (refill)
        {
            wakeup.Nudge();
        }
    }

    private void Recorded(Task task)
    {
        lock (_gate)
        {
            _tasks.Remove(task);
            _held--;
        }

        if (task.Exception is { } exception)
        {
            logger.LogError(exception.GetBaseException(), "Recording an attempt failed; its lease expires and the delivery is sent again");
        }

        wakeup.Nudge();
    }

    /// <summary>
    /// Takes places in their lanes for deliveries about to be published, as a claim would, while
    /// the lanes and the process have room; the deliveries taken are marked leased to this node
    /// (due again when the lease ends, like a claimed row) so no dispatcher claims them. Returns
    /// their claims, for <see cref="HandOver"/> once the rows have committed or <see cref="Unreserve"/>
    /// when they did not.
    /// </summary>
    public IReadOnlyList<DeliveryClaim> Reserve(IReadOnlyList<(Delivery Delivery, WebhookEndpoint Endpoint)> fresh)
    {
        var settings = options.CurrentValue;
        var perLane = PerLane(settings);
        var now = clock.GetUtcNow().UtcDateTime;
        var until = now + settings.Lease;
        List<DeliveryClaim>? taken = null;
        lock (_gate)
        {
            if (!_running)
            {
                return [];
            }

            foreach (var (delivery, endpoint) in fresh)
            {
                if (_held >= settings.MaxInFlight)
                {
                    break;
                }

                if (!_lanes.TryGetValue(endpoint.Id, out var lane))
                {
                    _lanes[endpoint.Id] = lane = new Lane();
                }
                else if (lane.Held >= perLane || lane.PausedUntil > now)
                {
                    continue;
                }

                lane.Reserved++;
                _held++;
                (taken ??= []).Add(DeliveryClaim.LeaseNew(delivery, endpoint, node.LeaseOwner, until));
            }
        }

        return taken ?? (IReadOnlyList<DeliveryClaim>)[];
    }

    /// <summary>The reserved deliveries have committed: they join their lanes as claims do.</summary>
    public void HandOver(IReadOnlyList<DeliveryClaim> reserved)
    {
        if (reserved.Count == 0)
        {
            return;
        }

        var settings = options.CurrentValue;
        bool running;
        lock (_gate)
        {
            running = _running;
            foreach (var claim in reserved)
            {
                var lane = _lanes[claim.EndpointId];
                lane.Reserved--;
                if (running)
                {
                    lane.Waiting.Enqueue(claim);
                    Pump(claim.EndpointId, lane, settings);
                }
                else
                {
                    _held--;
                    RemoveIfIdle(claim.EndpointId, lane);
                }
            }
        }

        if (!running)
        {
            // Stopped meanwhile: the rows go back to the queue for the next run or another node.
            _ = queue.ReleaseAsync(reserved).ContinueWith(t => logger.LogWarning(t.Exception!.GetBaseException(), "Could not release {Count} handed-over deliveries; their leases expire", reserved.Count),
                CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }

    /// <summary>The reserved deliveries were not stored: their places are free again.</summary>
    public void Unreserve(IReadOnlyList<DeliveryClaim> reserved)
    {
        lock (_gate)
        {
            foreach (var claim in reserved)
            {
                var lane = _lanes[claim.EndpointId];
                lane.Reserved--;
                _held--;
                RemoveIfIdle(claim.EndpointId, lane);
            }
        }
    }

    /// <summary>Most deliveries one lane holds, sending and waiting: four times its cap.</summary>
    private static int PerLane(DeliveryOptions settings) => settings.MaxConcurrencyPerEndpoint * 4;

    private void RemoveIfIdle(Guid endpointId, Lane lane)
    {
        if (lane.Held == 0 && lane.PausedUntil <= clock.GetUtcNow().UtcDateTime)
        {
            _lanes.Remove(endpointId);
        }
    }

    /// <summary>On shutdown: sends in flight see the stopping token and release their leases; claims not started are released.</summary>
    private async Task DrainAsync()
    {
        Task[] sends;
        List<DeliveryClaim> waiting;
        lock (_gate)
        {
            _running = false;
            sends = [.. _tasks];
            waiting = _lanes.Values.SelectMany(l => l.Waiting).ToList();
            foreach (var lane in _lanes.Values)
            {
                lane.Waiting.Clear();
            }
        }

        if (waiting.Count > 0)
        {
            try
            {
                await queue.ReleaseAsync(waiting);
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "Could not release {Count} claimed deliveries on shutdown; their leases expire", waiting.Count);
            }
        }

        await Task.WhenAll(sends).WaitAsync(TimeSpan.FromSeconds(10), CancellationToken.None).ContinueWith(_ => { }, TaskScheduler.Default);
    }

    private static async Task<int> RetryAsync(Func<Task<int>> action, CancellationToken stoppingToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await action();
            }
            catch (Exception) when (attempt < 5 && !stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(200 * attempt, stoppingToken);
            }
        }
    }
}

/// <summary>
/// The dispatcher as a process of the Hangfire server (DESIGN.md: Hangfire runs the engine's
/// background work): the server starts it with its workers and stops it with them. It holds one
/// of the server's threads for as long as it runs.
/// </summary>
public sealed class DeliveryDispatcherProcess(DeliveryDispatcher dispatcher) : Hangfire.Server.IBackgroundProcess
{
    public void Execute(Hangfire.Server.BackgroundProcessContext context) =>
        dispatcher.RunAsync(context.StoppingToken).GetAwaiter().GetResult();

    public override string ToString() => "Delivery dispatcher";
}
