using System.Threading.RateLimiting;

namespace DeliveryConsole.Infrastructure.Api;

/// <summary>
/// How many bytes of large request bodies this process works on at once. A body over
/// <see cref="Threshold"/> becomes several copies of itself on its way to the database (parsed,
/// the payload and the envelope as text, each bound to its statement), so three maximal batches
/// arriving together would each hold about ten times their size at the same moment. Past
/// <see cref="Capacity"/> a large body waits, in arrival order, for the ones ahead of it (the
/// single writer stores one group at a time anyway, so this costs no throughput); past
/// <see cref="QueueCapacity"/> waiting, it is answered 503 with <c>Retry-After</c>. Small bodies,
/// nearly all traffic, never wait.
/// </summary>
public sealed class BodyBudget : IDisposable
{
    public const int Threshold = 256 * 1024;
    public const int Capacity = (int)RequestBody.BatchLimit;
    public const int QueueCapacity = 16 * Capacity;

    private readonly ConcurrencyLimiter limiter = new(new ConcurrencyLimiterOptions
    {
        PermitLimit = Capacity,
        QueueLimit = QueueCapacity,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
    });

    /// <summary>
    /// <paramref name="bytes"/> of the budget, held until the returned lease is disposed (nothing
    /// to hold for a small body), waiting for room when it is a large one;
    /// <see cref="ServiceBusyException"/> when too many are waiting already.
    /// </summary>
    public async ValueTask<IDisposable?> EnterAsync(long bytes, CancellationToken cancellationToken)
    {
        if (bytes < Threshold)
        {
            return null;
        }

        var lease = await limiter.AcquireAsync((int)Math.Min(bytes, Capacity), cancellationToken);
        if (!lease.IsAcquired)
        {
            lease.Dispose();
            throw new ServiceBusyException($"The console is taking in {RequestBody.Describe(QueueCapacity)} of large request bodies already; nothing was stored. Retry in a second.");
        }

        return lease;
    }

    public void Dispose() => limiter.Dispose();
}
