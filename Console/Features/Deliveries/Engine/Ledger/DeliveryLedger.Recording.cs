using DeliveryConsole.Data;
using DeliveryConsole.Features.Stats;
using DeliveryConsole.Infrastructure.Delivery;

namespace DeliveryConsole.Features.Deliveries.Engine;

// Recording attempts: the record loop, its batches and the state each attempt leaves (SQLite per row, PostgreSQL from arrays).
public sealed partial class DeliveryLedger
{
    /// <summary>
    /// Records an attempt of a claimed delivery, batched with the others that finished meanwhile
    /// (one write of the writer): the attempt, the delivery's new state (delivered; pending with
    /// its retry time; failed after the last attempt, a 410, or when <paramref name="final"/>),
    /// the endpoint's health, and the rollups. Returns the new status, or null when the claim had
    /// lost its lease (the attempt is kept as history, the state left to whoever holds it now).
    /// </summary>
    public Task<DeliveryStatus?> RecordAsync(DeliveryClaim claim, SendResult result, bool final = false)
    {
        var pending = new Pending(claim, result, final, new TaskCompletionSource<DeliveryStatus?>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!_records.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(DeliveryLedger));
        }

        return pending.Recorded.Task;
    }

    /// <summary>Fails a claimed delivery without sending it (its endpoint was deleted or disabled).</summary>
    public async Task FinishWithoutSendingAsync(DeliveryClaim claim, string reason, DateTime now)
    {
        await _writer.WriteAsync(async db =>
        {
            var fail = RawSql.Prepared(db, """
                UPDATE deliveries SET "Status" = 2, "LastError" = @reason, "NextAttemptAt" = NULL, "LeaseOwner" = NULL, "LeaseUntil" = NULL, "ResendRequestedAt" = NULL, "UpdatedAt" = @now
                WHERE "Id" = @id AND "LeaseOwner" = @owner AND "Status" + 0 = 0
                """);
            fail.Set("@reason", reason);
            fail.Set("@now", now);
            fail.Set("@id", claim.Id);
            fail.Set("@owner", claim.LeaseOwner);
            if (await fail.ExecuteNonQueryAsync() == 1)
            {
                var rollups = new RollupChanges();
                rollups.StatusChanged(claim.WorkspaceId, claim.CreatedAt, claim.EndpointId, claim.EventType, DeliveryStatus.Pending, DeliveryStatus.Failed);
                await rollups.ApplyAsync(db);
            }

            return 0;
        });
        _notifier.Notify(claim.WorkspaceId);
    }

    private long _recordBatches;
    private long _recorded;

    /// <summary>Record batches written and the attempts in them, since the process started.</summary>
    public (long Batches, long Attempts) Figures => (Interlocked.Read(ref _recordBatches), Interlocked.Read(ref _recorded));

    /// <summary>A record batch smaller than this waits <see cref="GatherFor"/> for more attempts.</summary>
    private const int GatherBelow = 64;

    private static readonly TimeSpan GatherFor = TimeSpan.FromMilliseconds(2);

    private async Task RecordLoopAsync()
    {
        var batch = new List<Pending>(MaxRecordBatch);
        while (await _records.Reader.WaitToReadAsync())
        {
            while (batch.Count < MaxRecordBatch && _records.Reader.TryRead(out var item))
            {
                batch.Add(item);
            }

            if (batch.Count < GatherBelow)
            {
                // A few attempts: wait a moment for more (no lane waits for this: a lane's next send
                // starts when the answer arrives), since each batch costs a transaction and its
                // rollup and health statements whatever its size.
                await Task.Delay(GatherFor);
                while (batch.Count < MaxRecordBatch && _records.Reader.TryRead(out var item))
                {
                    batch.Add(item);
                }
            }

            try
            {
                var settings = _options.CurrentValue;
                Interlocked.Increment(ref _recordBatches);
                Interlocked.Add(ref _recorded, batch.Count);
                var (outcomes, disabled, retryAt) = await _writer.WriteAsync(db => RecordBatchAsync(db, batch, settings));
                if (disabled)
                {
                    // Committed: publishing stops matching the endpoints this batch disabled.
                    _endpoints.Invalidate();
                }

                if (retryAt is { } at)
                {
                    _wakeup.DueAt(at);
                }

                for (var i = 0; i < batch.Count; i++)
                {
                    batch[i].Recorded.TrySetResult(outcomes[i]);
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

    /// <summary>What recording an attempt changes, worked out before anything is written.</summary>
    private readonly record struct Recorded(DeliveryClaim Claim, SendResult Result, DeliveryStatus Status, int Attempts, DateTime? Next, bool Test);

    private async Task<(DeliveryStatus?[] Outcomes, bool Disabled, DateTime? RetryAt)> RecordBatchAsync(AppDbContext db, List<Pending> batch, DeliveryOptions settings)
    {
        var recorded = batch.Select(p =>
        {
            var attempts = p.Claim.Attempts + 1;
            var status = p.Result.Succeeded ? DeliveryStatus.Delivered
                : p.Final || p.Result.ResponseStatus == 410 || attempts >= settings.MaxAttempts ? DeliveryStatus.Failed
                : DeliveryStatus.Pending;
            DateTime? next = status == DeliveryStatus.Pending ? p.Result.CompletedAt + DeliveryProcessor.RetryDelay(p.Result, attempts, settings) : null;
            return new Recorded(p.Claim, p.Result, status, attempts, next, p.Claim.LeaseOwner == TestLeaseOwner);
        }).ToList();

        // Which deliveries still held their lease (their state changed); the attempts are kept either way.
        // (Two attempts of one delivery in a batch need the per-row order: the first decides, the next finds the lease gone.)
        var (changed, resendAsked) = db.IsPostgres() && recorded.DistinctBy(r => r.Claim.Id).Count() == recorded.Count
            ? await WriteRecordsSetBasedAsync(db, recorded)
            : (await WriteRecordsAsync(db, recorded), true);

        DateTime? retryAt = null;
        var rollups = new RollupChanges();
        var outcomes = new DeliveryStatus?[batch.Count];
        for (var i = 0; i < recorded.Count; i++)
        {
            var (claim, result, status, attempts, next, _) = recorded[i];
            rollups.AttemptRecorded(claim.WorkspaceId, result.StartedAt, claim.EndpointId, claim.EventType, result.ResponseStatus, result.DurationMs);
            if (changed[i])
            {
                outcomes[i] = status;
                if (next is { } due && (retryAt is null || due < retryAt))
                {
                    retryAt = due;
                }

                rollups.StatusChanged(claim.WorkspaceId, claim.CreatedAt, claim.EndpointId, claim.EventType, DeliveryStatus.Pending, status);
            }
            else
            {
                _logger.LogWarning("Delivery {DeliveryId}: lease lost before the attempt was recorded", claim.Id);
            }

            if (!result.Succeeded)
            {
                _logger.LogInformation("Delivery {DeliveryId} attempt {Attempt}: {Outcome} ({Status}) in {DurationMs} ms",
                    claim.Id, attempts, outcomes[i]?.ToString() ?? "lease lost", result.ResponseStatus?.ToString() ?? result.ErrorClass.ToString(), result.DurationMs);
            }
        }

        var disabled = await UpdateHealthAsync(db, batch, outcomes, settings);
        var settled = recorded.Where((_, i) => changed[i]).Select(r => r.Claim.Id).ToList();
        if (resendAsked && settled.Count > 0)
        {
            var now = recorded.Max(r => r.Result.CompletedAt);
            var resent = await ResendAfterSendAsync(db, settled, now);
            for (var i = 0; i < recorded.Count && resent.Count > 0; i++)
            {
                if (outcomes[i] is { } outcome && resent.Remove(recorded[i].Claim.Id))
                {
                    var claim = recorded[i].Claim;
                    rollups.StatusChanged(claim.WorkspaceId, claim.CreatedAt, claim.EndpointId, claim.EventType, outcome, DeliveryStatus.Pending);
                    outcomes[i] = DeliveryStatus.Pending;
                    retryAt = retryAt is null || now < retryAt ? now : retryAt;
                }
            }
        }

        await rollups.ApplyAsync(db);
        return (outcomes, disabled, retryAt);
    }

    /// <summary>SQLite: each attempt inserted and each state updated by prepared statements (in process, a statement costs microseconds).</summary>
    private static async Task<bool[]> WriteRecordsAsync(AppDbContext db, List<Recorded> recorded)
    {
        var insert = RawSql.Prepared(db, """
            INSERT INTO delivery_attempts ("Id", "DeliveryId", "WorkspaceId", "EndpointId", "Number", "Trigger", "RequestUrl", "RequestHeadersJson",
                "RequestBody", "ResponseStatus", "ResponseHeadersJson", "ResponseBody", "ResponseBodySize", "DurationMs", "ErrorClass", "Error", "StartedAt", "CompletedAt")
            VALUES (@id, @delivery, @workspace, @endpoint,
                (SELECT COALESCE(MAX("Number"), 0) + 1 FROM delivery_attempts WHERE "DeliveryId" = @delivery),
                CASE WHEN @test THEN 3 WHEN @attempts > 0 THEN 1 WHEN EXISTS (SELECT 1 FROM delivery_attempts WHERE "DeliveryId" = @delivery) THEN 2 ELSE 0 END,
                @url, @requestHeaders, @body, @status, @responseHeaders, @responseBody, @responseSize, @duration, @errorClass, @error, @started, @completed)
            """);
        // Two forms of the state update: the row's target columns are rewritten only when the
        // endpoint's URL changed since the row was written (SQLite rewrites an index whenever a
        // column of it is assigned, even to the same value).
        var update = RawSql.Prepared(db, """
            UPDATE deliveries SET "Status" = @newStatus, "Attempts" = @attempts, "NextAttemptAt" = @next, "DeliveredAt" = @delivered, "LastAttemptAt" = @started,
                "LastResponseStatus" = @status, "LastDurationMs" = @duration, "LastError" = @error,
                "LeaseOwner" = NULL, "LeaseUntil" = NULL, "UpdatedAt" = @completed
            WHERE "Id" = @delivery AND "LeaseOwner" = @owner AND "Status" + 0 = 0
            """);
        var retarget = RawSql.Prepared(db, """
            UPDATE deliveries SET "Status" = @newStatus, "Attempts" = @attempts, "NextAttemptAt" = @next, "DeliveredAt" = @delivered, "LastAttemptAt" = @started,
                "LastResponseStatus" = @status, "LastDurationMs" = @duration, "LastError" = @error, "TargetUrl" = @url, "TargetHost" = @host,
                "LeaseOwner" = NULL, "LeaseUntil" = NULL, "UpdatedAt" = @completed
            WHERE "Id" = @delivery AND "LeaseOwner" = @owner AND "Status" + 0 = 0
            """);

        var changed = new bool[recorded.Count];
        for (var i = 0; i < recorded.Count; i++)
        {
            var (claim, result, status, attempts, next, test) = recorded[i];
            insert.Set("@id", Guid.CreateVersion7());
            insert.Set("@delivery", claim.Id);
            insert.Set("@workspace", claim.WorkspaceId);
            insert.Set("@endpoint", claim.EndpointId);
            insert.Set("@test", test);
            insert.Set("@attempts", claim.Attempts);
            insert.Set("@url", result.RequestUrl);
            insert.Set("@requestHeaders", result.RequestHeadersJson);
            insert.Set("@body", claim.PayloadJson);
            insert.Set("@status", result.ResponseStatus);
            insert.Set("@responseHeaders", result.ResponseHeadersJson);
            insert.Set("@responseBody", result.ResponseBody);
            insert.Set("@responseSize", result.ResponseBodySize);
            insert.Set("@duration", result.DurationMs);
            insert.Set("@errorClass", (int)result.ErrorClass);
            insert.Set("@error", result.Error);
            insert.Set("@started", result.StartedAt);
            insert.Set("@completed", result.CompletedAt);
            await insert.ExecuteNonQueryAsync();

            var state = claim.TargetUrl == claim.EndpointUrl ? update : retarget;
            state.Set("@newStatus", (int)status);
            state.Set("@attempts", attempts);
            state.Set("@next", next);
            state.Set("@delivered", result.Succeeded ? result.CompletedAt : null);
            state.Set("@started", result.StartedAt);
            state.Set("@status", result.ResponseStatus);
            state.Set("@duration", result.DurationMs);
            state.Set("@error", result.Error);
            if (state == retarget)
            {
                state.Set("@url", claim.EndpointUrl);
                state.Set("@host", new Uri(claim.EndpointUrl).Host.ToLowerInvariant());
            }

            state.Set("@completed", result.CompletedAt);
            state.Set("@delivery", claim.Id);
            state.Set("@owner", claim.LeaseOwner);
            changed[i] = await state.ExecuteNonQueryAsync() == 1;
        }

        return changed;
    }

    /// <summary>
    /// PostgreSQL: every attempt of the batch in one INSERT and every state in one UPDATE, from
    /// arrays (<c>unnest</c>): each statement is a round trip to the server, so two per batch
    /// instead of two per attempt.
    /// </summary>
    private static async Task<(bool[] Changed, bool ResendAsked)> WriteRecordsSetBasedAsync(AppDbContext db, List<Recorded> recorded)
    {
        var insert = RawSql.Prepared(db, """
            INSERT INTO delivery_attempts ("Id", "DeliveryId", "WorkspaceId", "EndpointId", "Number", "Trigger", "RequestUrl", "RequestHeadersJson",
                "RequestBody", "ResponseStatus", "ResponseHeadersJson", "ResponseBody", "ResponseBodySize", "DurationMs", "ErrorClass", "Error", "StartedAt", "CompletedAt")
            SELECT u.id, u.delivery, u.workspace, u.endpoint,
                (SELECT COALESCE(MAX(a."Number"), 0) + 1 FROM delivery_attempts a WHERE a."DeliveryId" = u.delivery),
                CASE WHEN u.test THEN 3 WHEN u.attempts > 0 THEN 1 WHEN EXISTS (SELECT 1 FROM delivery_attempts a WHERE a."DeliveryId" = u.delivery) THEN 2 ELSE 0 END,
                u.url, u.request_headers, u.body, u.status, u.response_headers, u.response_body, u.response_size, u.duration, u.error_class, u.error, u.started, u.completed
            FROM unnest(@id::text[], @delivery::text[], @workspace::text[], @endpoint::text[], @test::boolean[], @attempts::integer[], @url::text[],
                @requestHeaders::text[], @body::text[], @status::integer[], @responseHeaders::text[], @responseBody::text[], @responseSize::bigint[],
                @duration::integer[], @errorClass::integer[], @error::text[], @started::bigint[], @completed::bigint[])
                AS u(id, delivery, workspace, endpoint, test, attempts, url, request_headers, body, status, response_headers, response_body, response_size,
                     duration, error_class, error, started, completed)
            """);
        insert.SetEach("@id", recorded, _ => Guid.CreateVersion7());
        insert.SetEach("@delivery", recorded, r => r.Claim.Id);
        insert.SetEach("@workspace", recorded, r => r.Claim.WorkspaceId);
        insert.SetEach("@endpoint", recorded, r => r.Claim.EndpointId);
        insert.SetEach("@test", recorded, r => r.Test);
        insert.SetEach("@attempts", recorded, r => r.Claim.Attempts);
        insert.SetEach("@url", recorded, r => r.Result.RequestUrl);
        insert.SetEach("@requestHeaders", recorded, r => r.Result.RequestHeadersJson);
        insert.SetEach("@body", recorded, r => r.Claim.PayloadJson);
        insert.SetEach("@status", recorded, r => r.Result.ResponseStatus);
        insert.SetEach("@responseHeaders", recorded, r => r.Result.ResponseHeadersJson);
        insert.SetEach("@responseBody", recorded, r => r.Result.ResponseBody);
        insert.SetEach("@responseSize", recorded, r => r.Result.ResponseBodySize);
        insert.SetEach("@duration", recorded, r => r.Result.DurationMs);
        insert.SetEach("@errorClass", recorded, r => (int)r.Result.ErrorClass);
        insert.SetEach("@error", recorded, r => r.Result.Error);
        insert.SetEach("@started", recorded, r => r.Result.StartedAt);
        insert.SetEach("@completed", recorded, r => r.Result.CompletedAt);
        await insert.ExecuteNonQueryAsync();

        var update = RawSql.Prepared(db, PostgresRecordStates);
        update.SetEach("@delivery", recorded, r => r.Claim.Id);
        update.SetEach("@owner", recorded, r => r.Claim.LeaseOwner);
        update.SetEach("@newStatus", recorded, r => (int)r.Status);
        update.SetEach("@attempts", recorded, r => r.Attempts);
        update.SetEach("@next", recorded, r => r.Next);
        update.SetEach("@delivered", recorded, r => r.Result.Succeeded ? r.Result.CompletedAt : (DateTime?)null);
        update.SetEach("@started", recorded, r => r.Result.StartedAt);
        update.SetEach("@status", recorded, r => r.Result.ResponseStatus);
        update.SetEach("@duration", recorded, r => r.Result.DurationMs);
        update.SetEach("@error", recorded, r => r.Result.Error);
        // The target is rewritten only where the endpoint's URL changed since the row was written.
        update.SetEach("@url", recorded, r => r.Claim.TargetUrl != r.Claim.EndpointUrl ? r.Claim.EndpointUrl : null);
        update.SetEach("@host", recorded, r => r.Claim.TargetUrl != r.Claim.EndpointUrl ? new Uri(r.Claim.EndpointUrl).Host.ToLowerInvariant() : null);
        update.SetEach("@completed", recorded, r => r.Result.CompletedAt);
        var updated = new HashSet<string>(StringComparer.Ordinal);
        // Whether any of them had a resend asked while in flight: the row's lease, held until this
        // statement, is what a resend on another node must see to mark it, so none can come after.
        var resendAsked = false;
        await using (var reader = await update.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                updated.Add(reader.GetString(0));
                resendAsked |= reader.GetBoolean(1);
            }
        }

        return (recorded.Select(r => updated.Contains(r.Claim.Id.ToString("D"))).ToArray(), resendAsked);
    }

    /// <summary>
    /// PostgreSQL: the state of each recorded delivery that still holds its lease, from arrays.
    /// <c>"Status" + 0 = 0</c>, not <c>"Status" = 0</c>, in this and every statement that finds
    /// rows by id: the plain term matches the due index's predicate, and when the statistics still
    /// say few rows are pending (a fresh table, a burst since the last analyze) the planner would
    /// scan every pending row once per id instead of reading the primary key (seen: 0.9 s per
    /// statement with 10,000 pending, a tenth of the batch route's throughput).
    /// </summary>
    internal const string PostgresRecordStates = """
        UPDATE deliveries AS d SET "Status" = u.new_status, "Attempts" = u.attempts, "NextAttemptAt" = u.next, "DeliveredAt" = u.delivered,
            "LastAttemptAt" = u.started, "LastResponseStatus" = u.status, "LastDurationMs" = u.duration, "LastError" = u.error,
            "TargetUrl" = COALESCE(u.url, d."TargetUrl"), "TargetHost" = COALESCE(u.host, d."TargetHost"),
            "LeaseOwner" = NULL, "LeaseUntil" = NULL, "UpdatedAt" = u.completed
        FROM unnest(@delivery::text[], @owner::text[], @newStatus::integer[], @attempts::integer[], @next::bigint[], @delivered::bigint[], @started::bigint[],
            @status::integer[], @duration::integer[], @error::text[], @url::text[], @host::text[], @completed::bigint[])
            AS u(delivery, owner, new_status, attempts, next, delivered, started, status, duration, error, url, host, completed)
        WHERE d."Id" = u.delivery AND d."LeaseOwner" = u.owner AND d."Status" + 0 = 0
        RETURNING d."Id", d."ResendRequestedAt" IS NOT NULL
        """;
}
