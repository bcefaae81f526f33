using DeliveryConsole.Data;
using DeliveryConsole.Features.Stats;

namespace DeliveryConsole.Features.Deliveries.Engine;

// Resending: a delivery back to pending (or marked while its send is in flight), and the resend after that send.
public sealed partial class DeliveryLedger
{
    /// <summary>What a resend changes: the delivery and the payload its next attempt sends (re-enriched).</summary>
    public sealed record Reset(Guid Id, string PayloadJson);

    /// <summary>
    /// Puts deliveries of <paramref name="workspaceId"/> back to pending with no attempts, due
    /// now, with their new payloads, in <paramref name="db"/>'s transaction. Never two sends of one
    /// delivery at once, and resends asked together make one send: a delivery whose send is in
    /// flight keeps its lease, and is marked to go back to pending once that attempt is recorded
    /// (unless the send in flight is already a resend's, which this one joins); a delivery whose
    /// resend (or first) send began after <paramref name="requestedAt"/> is left as it is. Returns
    /// the ones resent or joined (ids of other workspaces are skipped).
    /// </summary>
    public static async Task<IReadOnlyList<Guid>> ResetAsync(AppDbContext db, Guid workspaceId, IReadOnlyList<Reset> resets, DateTime now, DateTime requestedAt)
    {
        var read = RawSql.Prepared(db, """
            SELECT "Status", "CreatedAt", "EndpointId", "EventType", "LeaseOwner", "LeaseUntil", "Attempts", "LastAttemptAt",
                EXISTS (SELECT 1 FROM delivery_attempts WHERE "DeliveryId" = @id)
            FROM deliveries WHERE "Id" = @id AND "WorkspaceId" = @workspace
            """);
        var update = RawSql.Prepared(db, """
            UPDATE deliveries SET "Status" = 0, "Attempts" = 0, "NextAttemptAt" = @now, "LeaseOwner" = NULL, "LeaseUntil" = NULL,
                "ResendRequestedAt" = NULL, "DeliveredAt" = NULL, "PayloadJson" = @payload, "UpdatedAt" = @now
            WHERE "Id" = @id AND "Status" = @status AND NOT ("Status" = 0 AND "LeaseOwner" IS NOT NULL AND "LeaseUntil" > @now)
            """);
        // A send in flight is never doubled: the resend waits for its attempt to be recorded.
        var afterSend = RawSql.Prepared(db, """
            UPDATE deliveries SET "ResendRequestedAt" = COALESCE("ResendRequestedAt", @requested), "PayloadJson" = @payload, "UpdatedAt" = @now
            WHERE "Id" = @id AND "Status" + 0 = 0 AND "LeaseOwner" IS NOT NULL AND "LeaseUntil" > @now
            """);
        var rollups = new RollupChanges();
        var changed = new List<Guid>(resets.Count);
        foreach (var reset in resets)
        {
            // Each change is conditional on what was read: when another node's claim or record
            // came in between (PostgreSQL, several writers), the row is read again and decided anew.
            for (var attempt = 0; attempt < 5; attempt++)
            {
                read.Set("@id", reset.Id);
                read.Set("@workspace", workspaceId);
                DeliveryStatus status;
                DateTime createdAt;
                Guid endpointId;
                string eventType;
                bool inFlight, served;
                await using (var reader = await read.ExecuteReaderAsync())
                {
                    if (!await reader.ReadAsync())
                    {
                        break;
                    }

                    (status, createdAt, endpointId, eventType) = ((DeliveryStatus)reader.GetInt32(0), FromTicks(reader.GetInt64(1)), Guid.Parse(reader.GetString(2)), reader.GetString(3));
                    inFlight = status == DeliveryStatus.Pending && !reader.IsDBNull(4) && !reader.IsDBNull(5) && reader.GetInt64(5) > now.Ticks;
                    var attempts = reader.GetInt32(6);
                    var lastAttemptAt = reader.IsDBNull(7) ? (DateTime?)null : FromTicks(reader.GetInt64(7));
                    var attemptedBefore = reader.GetBoolean(8);
                    served = inFlight
                        // The send in flight is itself a resend's (no attempt counted since the reset): this one joins it.
                        ? attempts == 0 && attemptedBefore
                        // A resend's (or the first) send began after this was asked: it was this resend.
                        : attempts <= 1 && lastAttemptAt >= requestedAt;
                }

                if (served)
                {
                    changed.Add(reset.Id);
                    break;
                }

                var target = inFlight ? afterSend : update;
                target.Set("@id", reset.Id);
                target.Set("@now", now);
                target.Set("@payload", reset.PayloadJson);
                if (inFlight)
                {
                    target.Set("@requested", requestedAt);
                }
                else
                {
                    target.Set("@status", (int)status);
                }

                if (await target.ExecuteNonQueryAsync() == 1)
                {
                    if (!inFlight)
                    {
                        rollups.StatusChanged(workspaceId, createdAt, endpointId, eventType, status, DeliveryStatus.Pending);
                    }

                    changed.Add(reset.Id);
                    break;
                }
            }
        }

        await rollups.ApplyAsync(db);
        return changed;
    }

    /// <summary>
    /// The deliveries among <paramref name="ids"/> (just recorded) whose resend was asked while
    /// their send was in flight: back to pending with 0 attempts, due at <paramref name="now"/>.
    /// </summary>
    private static async Task<HashSet<Guid>> ResendAfterSendAsync(AppDbContext db, IReadOnlyCollection<Guid> ids, DateTime now)
    {
        var resend = RawSql.Prepared(db, $"""
            UPDATE deliveries SET "Status" = 0, "Attempts" = 0, "NextAttemptAt" = @now, "DeliveredAt" = NULL, "ResendRequestedAt" = NULL,
                "LeaseOwner" = NULL, "LeaseUntil" = NULL, "UpdatedAt" = @now
            WHERE {RawSql.InIdList(db, "\"Id\"", "@ids")} AND "ResendRequestedAt" IS NOT NULL
            RETURNING "Id"
            """);
        resend.Set("@now", now);
        resend.Set("@ids", RawSql.IdList(db, ids));
        var resent = new HashSet<Guid>();
        await using var reader = await resend.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            resent.Add(Guid.Parse(reader.GetString(0)));
        }

        return resent;
    }
}
