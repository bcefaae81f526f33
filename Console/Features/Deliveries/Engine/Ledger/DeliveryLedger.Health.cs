using DeliveryConsole.Data;
using DeliveryConsole.Features.Stats;
using DeliveryConsole.Infrastructure.Delivery;

namespace DeliveryConsole.Features.Deliveries.Engine;

// Endpoint health: failure streaks, auto-disable, and the pending deliveries of a deleted endpoint.
public sealed partial class DeliveryLedger
{
    /// <summary>Fails every pending delivery of an endpoint (it was deleted), releasing their leases, in <paramref name="db"/>'s transaction.</summary>
    public static async Task<int> FailPendingAsync(AppDbContext db, Guid endpointId, string reason, DateTime now)
    {
        var fail = RawSql.Prepared(db, """
            UPDATE deliveries SET "Status" = 2, "LastError" = @reason, "NextAttemptAt" = NULL, "LeaseOwner" = NULL, "LeaseUntil" = NULL, "ResendRequestedAt" = NULL, "UpdatedAt" = @now
            WHERE "EndpointId" = @endpoint AND "Status" = 0
            RETURNING "WorkspaceId", "CreatedAt", "EventType"
            """);
        fail.Set("@reason", reason);
        fail.Set("@now", now);
        fail.Set("@endpoint", endpointId);
        var rollups = new RollupChanges();
        var count = 0;
        await using (var reader = await fail.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                rollups.StatusChanged(Guid.Parse(reader.GetString(0)), FromTicks(reader.GetInt64(1)), endpointId, reader.GetString(2), DeliveryStatus.Pending, DeliveryStatus.Failed);
                count++;
            }
        }

        await rollups.ApplyAsync(db);
        return count;
    }


    /// <summary>
    /// One health update per endpoint of the batch: the failure streak (reset by a success, then
    /// counting the failures after it), the latest success and failure; and auto-disable on a 410
    /// or when every delivery of the window failed. True when it disabled one.
    /// </summary>
    private static async Task<bool> UpdateHealthAsync(AppDbContext db, List<Pending> batch, DeliveryStatus?[] outcomes, DeliveryOptions settings)
    {
        var disabledAny = false;
        var health = RawSql.Prepared(db, """
            UPDATE webhook_endpoints SET
                "ConsecutiveFailures" = CASE WHEN @reset THEN @failures ELSE "ConsecutiveFailures" + @failures END,
                "LastSuccessAt" = COALESCE(@success, "LastSuccessAt"),
                "LastFailureAt" = COALESCE(@failure, "LastFailureAt"),
                "LastError" = CASE WHEN @failure IS NULL THEN "LastError" ELSE @error END
            WHERE "Id" = @endpoint
            """);
        // In key order: writers of other connections or nodes that touch the same endpoints lock them in the same order (no deadlock).
        foreach (var endpoint in batch.Select((p, i) => (p.Claim, p.Result, Outcome: outcomes[i])).GroupBy(p => p.Claim.EndpointId).OrderBy(g => g.Key.ToString("D"), StringComparer.Ordinal))
        {
            var ordered = endpoint.OrderBy(p => p.Result.CompletedAt).ToList();
            var lastSuccess = ordered.FindLastIndex(p => p.Result.Succeeded);
            var failuresAfter = ordered.Skip(lastSuccess + 1).ToList();
            var lastFailure = failuresAfter.Count > 0 ? failuresAfter[^1].Result : null;
            health.Set("@reset", lastSuccess >= 0);
            health.Set("@failures", failuresAfter.Count);
            health.Set("@success", lastSuccess >= 0 ? ordered[lastSuccess].Result.CompletedAt : null);
            health.Set("@failure", lastFailure?.CompletedAt);
            health.Set("@error", lastFailure?.Error);
            health.Set("@endpoint", endpoint.Key);
            await health.ExecuteNonQueryAsync();

            var now = ordered[^1].Result.CompletedAt;
            var disableReason = ordered.Any(p => p.Result.ResponseStatus == 410 && p.Claim.LeaseOwner != TestLeaseOwner) ? "The endpoint answered 410 Gone"
                : ordered.Any(p => p.Outcome == DeliveryStatus.Failed && p.Claim.LeaseOwner != TestLeaseOwner) && await KeepsFailingAsync(db, endpoint.Key, now, settings)
                    ? $"Every delivery of the last {settings.DisableWindow.TotalHours:0.#} h failed ({settings.DisableAfterFailures} or more)"
                : null;
            if (disableReason is not null)
            {
                var disable = RawSql.Prepared(db, """
                    UPDATE webhook_endpoints SET "Status" = 1, "DisabledReason" = @reason, "DisabledAt" = @now, "UpdatedAt" = @now
                    WHERE "Id" = @endpoint AND "Status" = 0
                    """);
                disable.Set("@reason", disableReason);
                disable.Set("@now", now);
                disable.Set("@endpoint", endpoint.Key);
                disabledAny |= await disable.ExecuteNonQueryAsync() == 1;
            }
        }

        return disabledAny;
    }

    /// <summary>True when the endpoint has no delivered delivery created in the window and at least the configured number of failed ones.</summary>
    private static async Task<bool> KeepsFailingAsync(AppDbContext db, Guid endpointId, DateTime now, DeliveryOptions settings)
    {
        var recent = RawSql.Prepared(db, """
            SELECT CASE WHEN EXISTS (SELECT 1 FROM deliveries WHERE "EndpointId" = @endpoint AND "CreatedAt" >= @since AND "Status" = 1) THEN 1 ELSE 0 END,
                   (SELECT COUNT(*) FROM deliveries WHERE "EndpointId" = @endpoint AND "CreatedAt" >= @since AND "Status" = 2)
            """);
        recent.Set("@endpoint", endpointId);
        recent.Set("@since", now - settings.DisableWindow);
        await using var reader = await recent.ExecuteReaderAsync();
        await reader.ReadAsync();
        return reader.GetInt32(0) == 0 && reader.GetInt64(1) >= settings.DisableAfterFailures;
    }

    /// <summary>An endpoint enabled again starts a new failure streak, in <paramref name="db"/>'s transaction.</summary>
    public static async Task ResetFailureStreakAsync(AppDbContext db, Guid endpointId)
    {
        var reset = RawSql.Prepared(db, """UPDATE webhook_endpoints SET "ConsecutiveFailures" = 0 WHERE "Id" = @endpoint""");
        reset.Set("@endpoint", endpointId);
        await reset.ExecuteNonQueryAsync();
    }
}
