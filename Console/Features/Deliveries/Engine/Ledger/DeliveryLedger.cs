using System.Threading.Channels;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Deliveries.Live;
using DeliveryConsole.Features.Stats;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>
/// The one owner of delivery state. Nothing else changes a delivery's status, attempts, lease,
/// last-attempt fields or next attempt time, or an endpoint's health: publishing, claiming
/// (<see cref="DeliveryQueue"/>, beside it in this module), recording attempts, resending,
/// failing the pending deliveries of a deleted endpoint, the test send and retention all come
/// here. Each operation is typed, hand-written SQL on the caller's transaction (the writer's,
/// or the service's when the change must commit with its own rows), and keeps the hourly
/// rollups in that same transaction: its changes to them are added up per batch
/// (<see cref="RollupChanges"/>) and written once per rollup row, in key order.
/// One file per operation in this folder: Publishing, Resending, Recording (the record loop and
/// the state each attempt leaves), Health (failure streaks, auto-disable, a deleted endpoint's
/// pending deliveries) and Retention; each keeps its SQLite and PostgreSQL statements side by side.
/// </summary>
public sealed partial class DeliveryLedger : IAsyncDisposable
{
    private const int MaxRecordBatch = 256;

    private readonly DatabaseWriter _writer;
    private readonly DeliveryNotifier _notifier;
    private readonly IOptionsMonitor<DeliveryOptions> _options;
    private readonly ILogger<DeliveryLedger> _logger;
    private readonly EndpointDirectory _endpoints;
    private readonly IDeliveryWakeup _wakeup;
    private readonly Channel<Pending> _records = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Task _recordLoop;

    private sealed record Pending(DeliveryClaim Claim, SendResult Result, bool Final, TaskCompletionSource<DeliveryStatus?> Recorded);

    public DeliveryLedger(DatabaseWriter writer, DeliveryNotifier notifier, EndpointDirectory endpoints, IDeliveryWakeup wakeup, IOptionsMonitor<DeliveryOptions> options, ILogger<DeliveryLedger> logger)
    {
        _wakeup = wakeup;
        _endpoints = endpoints;
        _writer = writer;
        _notifier = notifier;
        _options = options;
        _logger = logger;
        _recordLoop = Task.Run(RecordLoopAsync);
    }

    public async ValueTask DisposeAsync()
    {
        _records.Writer.TryComplete();
        await _recordLoop;
    }

    // ---- The test send -----------------------------------------------------------------------

    /// <summary>The lease owner of a test send's delivery while its request runs: no dispatcher claims it.</summary>
    public const string TestLeaseOwner = "webhook-test";

    // ---- Values as stored --------------------------------------------------------------------

    internal static DateTime FromTicks(long ticks) => new(ticks, DateTimeKind.Utc);
}
