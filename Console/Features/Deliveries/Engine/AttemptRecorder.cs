using System.Threading.Channels;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Deliveries.Live;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>
/// Records successful attempts in batches: whatever has finished meanwhile goes into one write of
/// the writer, as one prepared insert and one prepared update per delivery and one health update
/// per endpoint, instead of an EF unit of work and a savepoint each. A delivery is marked
/// delivered only while the claim still holds its lease; otherwise the attempt stays as history.
/// Failed attempts, which may schedule retries or disable an endpoint, go through
/// <see cref="DeliveryProcessor"/>'s own recording.
/// </summary>
public sealed class AttemptRecorder : IAsyncDisposable
{
    private const int MaxBatch = 256;

    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly DatabaseWriter _writer;
    private readonly DeliveryNotifier _notifier;
    private readonly ILogger<AttemptRecorder> _logger;
    private readonly Task _loop;

    private sealed record Pending(DeliveryClaim Claim, SendResult Result, TaskCompletionSource<bool> Recorded);

    public AttemptRecorder(DatabaseWriter writer, DeliveryNotifier notifier, ILogger<AttemptRecorder> logger)
    {
        _writer = writer;
        _notifier = notifier;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Records a successful attempt; true when the delivery was marked delivered (false: its lease was lost meanwhile).</summary>
    public Task<bool> RecordSuccessAsync(DeliveryClaim claim, SendResult result)
    {
        var pending = new Pending(claim, result, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_queue.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(AttemptRecorder));
        }

        return pending.Recorded.Task;
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop;
    }

    private async Task RunAsync()
    {
        var batch = new List<Pending>(MaxBatch);
        while (await _queue.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            try
            {
                var marked = await _writer.WriteAsync(db => RecordAsync(db, batch));
                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Recorded.TrySetResult(marked[i]);
                }

                foreach (var workspace in batch.Select(p => p.Claim.WorkspaceId).Distinct())
                {
                    _notifier.Notify(workspace);
                }
            }
            catch (Exception exception)
            {
                _logger.LogError(exception, "Recording {Count} attempts failed; their leases expire and they are sent again", batch.Count);
                foreach (var item in batch)
                {
                    item.Recorded.TrySetException(exception);
                }
            }

            batch.Clear();
        }
    }

    private static async Task<bool[]> RecordAsync(AppDbContext db, List<Pending> batch)
    {
        await using var insert = RawSql.Command(db, """
            INSERT INTO delivery_attempts ("Id", "DeliveryId", "WorkspaceId", "EndpointId", "Number", "Trigger", "RequestUrl", "RequestHeadersJson",
                "RequestBody", "ResponseStatus", "ResponseHeadersJson", "ResponseBody", "ResponseBodySize", "DurationMs", "ErrorClass", "Error", "StartedAt", "CompletedAt")
            VALUES ($id, $delivery, $workspace, $endpoint,
                (SELECT COALESCE(MAX("Number"), 0) + 1 FROM delivery_attempts WHERE "DeliveryId" = $delivery),
                CASE WHEN $attempts > 0 THEN 1 WHEN EXISTS (SELECT 1 FROM delivery_attempts WHERE "DeliveryId" = $delivery) THEN 2 ELSE 0 END,
                $url, $requestHeaders, $body, $status, $responseHeaders, $responseBody, $responseSize, $duration, 0, NULL, $started, $completed)
            """, Names("$id", "$delivery", "$workspace", "$endpoint", "$attempts", "$url", "$requestHeaders", "$body", "$status", "$responseHeaders",
            "$responseBody", "$responseSize", "$duration", "$started", "$completed"));
        await using var update = RawSql.Command(db, """
            UPDATE deliveries SET "Status" = 1, "Attempts" = $attempts, "NextAttemptAt" = NULL, "DeliveredAt" = $completed, "LastAttemptAt" = $started,
                "LastResponseStatus" = $status, "LastDurationMs" = $duration, "LastError" = NULL, "TargetUrl" = $url, "TargetHost" = $host,
                "LeaseOwner" = NULL, "LeaseUntil" = NULL, "UpdatedAt" = $completed
            WHERE "Id" = $delivery AND "LeaseOwner" = $owner AND "Status" = 0
            """, Names("$attempts", "$completed", "$started", "$status", "$duration", "$url", "$host", "$delivery", "$owner"));
        await using var health = RawSql.Command(db, """
            UPDATE webhook_endpoints SET "ConsecutiveFailures" = 0, "LastSuccessAt" = $at WHERE "Id" = $endpoint
            """, Names("$at", "$endpoint"));

        var marked = new bool[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var (claim, result, _) = batch[i];
            var delivery = claim.Id.ToString("D");
            insert.Set("$id", Guid.CreateVersion7().ToString("D"));
            insert.Set("$delivery", delivery);
            insert.Set("$workspace", claim.WorkspaceId.ToString("D"));
            insert.Set("$endpoint", claim.EndpointId.ToString("D"));
            insert.Set("$attempts", claim.Attempts);
            insert.Set("$url", result.RequestUrl);
            insert.Set("$requestHeaders", result.RequestHeadersJson);
            insert.Set("$body", claim.PayloadJson);
            insert.Set("$status", result.ResponseStatus);
            insert.Set("$responseHeaders", result.ResponseHeadersJson);
            insert.Set("$responseBody", result.ResponseBody);
            insert.Set("$responseSize", result.ResponseBodySize);
            insert.Set("$duration", result.DurationMs);
            insert.Set("$started", UtcTicksConverter.ToTicks(result.StartedAt));
            insert.Set("$completed", UtcTicksConverter.ToTicks(result.CompletedAt));
            await insert.ExecuteNonQueryAsync();

            update.Set("$attempts", claim.Attempts + 1);
            update.Set("$completed", UtcTicksConverter.ToTicks(result.CompletedAt));
            update.Set("$started", UtcTicksConverter.ToTicks(result.StartedAt));
            update.Set("$status", result.ResponseStatus);
            update.Set("$duration", result.DurationMs);
            update.Set("$url", claim.EndpointUrl);
            update.Set("$host", new Uri(claim.EndpointUrl).Host.ToLowerInvariant());
            update.Set("$delivery", delivery);
            update.Set("$owner", claim.LeaseOwner);
            marked[i] = await update.ExecuteNonQueryAsync() == 1;
        }

        // One health update per endpoint of the batch, with its latest success.
        foreach (var endpoint in batch.GroupBy(p => p.Claim.EndpointId))
        {
            health.Set("$at", UtcTicksConverter.ToTicks(endpoint.Max(p => p.Result.CompletedAt)));
            health.Set("$endpoint", endpoint.Key.ToString("D"));
            await health.ExecuteNonQueryAsync();
        }

        return marked;
    }

    private static (string, object?)[] Names(params string[] names) => names.Select(n => (n, (object?)null)).ToArray();
}
