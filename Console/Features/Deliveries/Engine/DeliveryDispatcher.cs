using System.Diagnostics;
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

        /// <summary>Sends finished per second, smoothed: what this endpoint takes now.</summary>
        public double Rate;

        private int _finished;
        private long _since = Stopwatch.GetTimestamp();

        public void Finished() => _finished++;

        /// <summary>Folds the sends finished since the last measure into <see cref="Rate"/> (every 200 ms at most; a lane that finishes nothing for a second drops to 0).</summary>
        public void Measure()
        {
            var elapsed = Stopwatch.GetElapsedTime(_since).TotalSeconds;
            if (elapsed < 0.2)
            {
                return;
            }

            var rate = _finished / elapsed;
            // A window of a second or more stands on its own; shorter ones are smoothed.
            Rate = Rate == 0 || elapsed >= 1 ? rate : (Rate + rate) / 2;
            _finished = 0;
            _since = Stopwatch.GetTimestamp();
        }

        /// <summary>
        /// How many this lane may hold (sending, waiting and reserved): four times its cap, or as
        /// many as it sends in <see cref="HoldTime"/> at its current rate when that is more, within
        /// the process's <see cref="DeliveryOptions.MaxInFlight"/>. A fast endpoint so takes a burst
        /// of publishes straight from the publisher (no claim, no round trip through the due
        /// index); a slow one holds little, and what it holds is sent well within its lease.
        /// </summary>
        public int Hold(DeliveryOptions settings) => Math.Max(PerLane(settings), Math.Min(settings.MaxInFlight, (int)(Rate * HoldTime.TotalSeconds)));
    }

    /// <summary>How long, at its current rate, the work a lane holds may take to send.</summary>
    private static readonly TimeSpan HoldTime = TimeSpan.FromSeconds(1);

    private readonly Dictionary<Guid, Lane> _lanes = [];
    private readonly HashSet<Task> _tasks = [];
    private readonly object _gate = new();
    private int _held;
    private CancellationToken _stoppingToken;

    /// <summary>The last wait ended by its timeout, not by a wake-up.</summary>
    private bool _quiet;

    /// <summary>Rows may be due that no claim has taken yet (told so while every place was taken, or the last claim was full).</summary>
    private bool _backlog = true;

    /// <summary>
    /// The full lanes the last claim skipped when it came back short (null: it took all it asked for,
    /// or skipped none). Until one of them has room again, or something new is due, the rows
    /// still due are theirs and the next claim would find nothing.
    /// </summary>
    private HashSet<Guid>? _skippedByShortClaim;

    /// <summary>Endpoints whose rows this node's publishes stored due while their lane was full (claimed once it has room).</summary>
    private readonly HashSet<Guid> _dueBehindFull = [];

    /// <summary>The earliest due time known of the rows waiting in the database (null: none known).</summary>
    private DateTime? _nextDue;

    /// <summary>The loop runs and takes hand-overs (from the start of <see cref="RunAsync"/> until its drain).</summary>
    private bool _running;

    private long _claims;
    private long _claimed;
    private long _handedOver;

    /// <summary>Claim statements run, deliveries they claimed, and deliveries handed over by publishing, since the process started.</summary>
    public (long Claims, long Claimed, long HandedOver) Figures => (Interlocked.Read(ref _claims), Interlocked.Read(ref _claimed), Interlocked.Read(ref _handedOver));

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
        List<Guid> wide;
        var widePerEndpoint = perLane;
        List<DeliveryClaim> shed;
        lock (_gate)
        {
            free = Math.Min(MaxBatch, settings.MaxInFlight - _held);
            var now = clock.GetUtcNow().UtcDateTime;
            foreach (var (endpointId, lane) in _lanes.ToList())
            {
                lane.Measure();
                RemoveIfIdle(endpointId, lane);
            }

            full = _lanes.Where(l => l.Value.Held >= l.Value.Hold(settings) || l.Value.PausedUntil > now).Select(l => l.Key).ToList();
            shed = Shed(settings);

            // Lanes whose endpoint takes more than four times its cap in a second may take that
            // much in one claim: a fast endpoint's backlog then costs a few large claims, not one
            // claim each time its lane runs low.
            wide = [];
            foreach (var (endpointId, lane) in _lanes)
            {
                var room = lane.Hold(settings) - lane.Held;
                if (room > perLane && lane.PausedUntil <= now)
                {
                    wide.Add(endpointId);
                    widePerEndpoint = Math.Max(widePerEndpoint, room);
                }
            }
            foreach (var (endpointId, lane) in _lanes.Where(l => l.Value.PausedUntil != default && l.Value.PausedUntil <= now).ToList())
            {
                // A pause is over: the lane sends what waited.
                lane.PausedUntil = default;
                Pump(endpointId, lane, settings);
                RemoveIfIdle(endpointId, lane);
            }
        }

        if (shed.Count > 0)
        {
            // Claimed but no longer to be sent within their lease at their endpoint's rate: back to the queue.
            await queue.ReleaseAsync(shed);
            logger.LogInformation("Gave back {Count} claimed deliveries of a lane that slowed down", shed.Count);
        }

        // What is known to be due: told by publishes and resends (Wake) and by the ledger when it
        // schedules a retry (DueAt); after a quiet wait (nothing woke the loop), one read of the
        // database (other nodes' work, expired leases). A loop woken only because places freed up
        // claims only when rows are known to wait: a claim is a write transaction.
        var woken = wakeup.TakeWake();
        var dueAt = wakeup.TakeDueAt();
        if (dueAt is { } at && (_nextDue is null || at < _nextDue))
        {
            _nextDue = at;
        }

        if (_quiet)
        {
            _nextDue = await queue.NextDueAsync(stoppingToken);
        }

        // Rows this node's publishes stored due only behind lanes that are full wait for those lanes:
        // a claim now would skip them and walk past every one of them in the due index for nothing.
        // They are remembered, and looked for once their lane has room.
        foreach (var endpoint in wakeup.TakeWokenFor())
        {
            if (full.Contains(endpoint))
            {
                _dueBehindFull.Add(endpoint);
            }
            else
            {
                _backlog = true;
            }
        }

        _backlog |= woken | _dueBehindFull.RemoveWhere(e => !full.Contains(e)) > 0;
        var nothingNew = _skippedByShortClaim is { } skipped && !_backlog && dueAt is null && !_quiet && skipped.IsSubsetOf(full);
        if (free > 0 && !nothingNew && (_backlog || _nextDue <= clock.GetUtcNow().UtcDateTime))
        {
            var claims = await queue.ClaimAsync(free, new ClaimLanes(perLane, full, wide, widePerEndpoint), node.LeaseOwner, settings.Lease, stoppingToken);
            Interlocked.Increment(ref _claims);
            Interlocked.Add(ref _claimed, claims.Count);
            Admit(claims, settings);
            if (claims.Count == free)
            {
                _quiet = false;
                _skippedByShortClaim = null;
                return; // a full batch: there is likely more, look again at once
            }

            // Everything due that this claim could take was taken: what is left is due later, or waits for a full lane.
            _backlog = false;
            _skippedByShortClaim = full.Count > 0 ? [.. full] : null;
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

    /// <summary>
    /// Starts waiting claims of a lane while it has free senders. Holds the gate. With
    /// <paramref name="here"/>, the claims are put there instead, for the caller to start on its
    /// own thread once it has left the gate (<see cref="StartHere"/>).
    /// </summary>
    private void Pump(Guid endpointId, Lane lane, DeliveryOptions settings, List<DeliveryClaim>? here = null)
    {
        if (lane.PausedUntil > clock.GetUtcNow().UtcDateTime)
        {
            return;
        }

        while (lane.Sending < settings.MaxConcurrencyPerEndpoint && lane.Waiting.TryDequeue(out var claim))
        {
            lane.Sending++;
            if (here is not null)
            {
                here.Add(claim);
                continue;
            }

            var task = Task.Run(() => processor.ProcessAsync(claim, _stoppingToken));
            _tasks.Add(task);
            task.ContinueWith(Sent, endpointId, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
    }

    /// <summary>How many sends <see cref="StartHere"/> has started inside each other on this thread.</summary>
    [ThreadStatic]
    private static int _startedHere;

    /// <summary>
    /// Starts the next sends of a lane on the thread whose send just finished, not through the
    /// thread pool's queue: under load that queue holds the publishers' requests, and the wait
    /// there was part of every send cycle. A send that finishes at once (an endpoint deleted)
    /// would start the next inside itself, so past a few levels they go to the pool.
    /// </summary>
    private void StartHere(Guid endpointId, List<DeliveryClaim> claims)
    {
        foreach (var claim in claims)
        {
            Task<DeliveryProcessor.Sent> task;
            if (_startedHere >= 4)
            {
                task = Task.Run(() => processor.ProcessAsync(claim, _stoppingToken));
            }
            else
            {
                _startedHere++;
                try
                {
                    task = processor.ProcessAsync(claim, _stoppingToken);
                }
                catch (Exception exception)
                {
                    task = Task.FromException<DeliveryProcessor.Sent>(exception);
                }
                finally
                {
                    _startedHere--;
                }
            }

            lock (_gate)
            {
                _tasks.Add(task);
            }

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
        var next = new List<DeliveryClaim>(1);
        lock (_gate)
        {
            _tasks.Remove(task);
            _tasks.Add(recorded);
            var lane = _lanes[endpointId];
            lane.Sending--;
            lane.Finished();
            lane.Measure();
            if (task is { IsCompletedSuccessfully: true, Result.Pause: { } pause })
            {
                var until = clock.GetUtcNow().UtcDateTime + pause;
                lane.PausedUntil = until > lane.PausedUntil ? until : lane.PausedUntil;
            }

            Pump(endpointId, lane, settings, next);
            RemoveIfIdle(endpointId, lane);

            // Claim more when this lane has sent half of what it may hold: a claim waits its turn at
            // the writer (a record batch may be committing), and a fast lane must not run dry meanwhile.
            refill = lane.Waiting.Count <= Math.Max(settings.MaxConcurrencyPerEndpoint, lane.Hold(settings) / 2);
        }

        StartHere(endpointId, next);

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
                else if (lane.Held >= lane.Hold(settings) || lane.PausedUntil > now)
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
        Interlocked.Add(ref _handedOver, reserved.Count);
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

    /// <summary>
    /// The waiting claims of lanes holding far more than they now may (their endpoint slowed down
    /// since they were taken: at its rate they would wait past a good part of their lease), taken
    /// out of their lanes, newest first, to be released. Holds the gate.
    /// </summary>
    private List<DeliveryClaim> Shed(DeliveryOptions settings)
    {
        List<DeliveryClaim>? shed = null;
        foreach (var (endpointId, lane) in _lanes)
        {
            var excess = lane.Held - 2 * lane.Hold(settings);
            if (excess <= 0 || lane.Waiting.Count == 0)
            {
                continue;
            }

            var kept = lane.Waiting.ToList();
            var take = Math.Min(excess, kept.Count);
            (shed ??= []).AddRange(kept.GetRange(kept.Count - take, take));
            lane.Waiting.Clear();
            foreach (var claim in kept.Take(kept.Count - take))
            {
                lane.Waiting.Enqueue(claim);
            }

            _held -= take;
        }

        return shed ?? [];
    }

    /// <summary>The least deliveries one lane may hold, sending and waiting: four times its cap.</summary>
    private static int PerLane(DeliveryOptions settings) => settings.MaxConcurrencyPerEndpoint * 4;

    /// <summary>
    /// Forgets a lane that holds nothing, is not paused, and has not sent for a while (its rate has
    /// decayed below one a second). A lane that only ran dry between two claims keeps its rate:
    /// forgotten at once, it would come back at the least hold and claim in small batches.
    /// </summary>
    private void RemoveIfIdle(Guid endpointId, Lane lane)
    {
        if (lane.Held == 0 && lane.Rate < 1 && lane.PausedUntil <= clock.GetUtcNow().UtcDateTime)
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
