using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using System.Text.Json;
using DeliveryConsole.Features.Calls;
using DeliveryConsole.Features.Calls.Telephony;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Features.Deliveries.Live;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Api;
using Hangfire;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Callbacks;

public sealed record NewCallback(
    string ToNumber, DateTime ScheduledAt, string? SourceSessionId, string? AgentId, string? PhoneNumberId, string? FromNumber,
    string? Reason, string? Instructions, string? Summary, string PipelineConfigJson, string MetadataJson);

/// <summary>
/// Callbacks of a workspace. State changes are conditional UPDATEs on the status, so a click, a
/// job and another node racing on one callback end in exactly one outcome.
/// </summary>
public sealed class CallbackService(
    IDbContextFactory<AppDbContext> dbFactory,
    CallService calls,
    EventService events,
    IBackgroundJobClient jobs,
    DeliveryNotifier notifier,
    TimeProvider clock,
    ILogger<CallbackService> logger)
{
    /// <summary>How long a dispatcher holds a callback; after that the sweep settles it.</summary>
    public static readonly TimeSpan DispatchLease = TimeSpan.FromMinutes(2);

    public async Task<Callback> CreateAsync(Caller caller, NewCallback request, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (request.SourceSessionId is { } source && !await db.Calls.AnyAsync(c => c.Id == source && c.WorkspaceId == caller.WorkspaceId, cancellationToken))
        {
            throw new NotFoundException("Source session (call) not found.");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var callback = new Callback
        {
            Id = Callback.NewId(),
            WorkspaceId = caller.WorkspaceId,
            ToNumber = request.ToNumber,
            FromNumber = request.FromNumber,
            ScheduledAt = request.ScheduledAt,
            Status = CallbackStatus.Scheduled,
            SourceSessionId = request.SourceSessionId,
            AgentId = request.AgentId,
            PhoneNumberId = request.PhoneNumberId,
            Reason = request.Reason,
            Instructions = request.Instructions,
            Summary = request.Summary,
            PipelineConfigJson = request.PipelineConfigJson,
            MetadataJson = request.MetadataJson,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Callbacks.Add(callback);
        db.Record(caller, now, "callback.created", "callback", callback.Id, $"to {callback.ToNumber} at {callback.ScheduledAt:u}");
        await db.SaveChangesAsync(cancellationToken);
        await ScheduleJobAsync(callback, cancellationToken);
        notifier.Notify(caller.WorkspaceId);
        return callback;
    }

    /// <summary>
    /// The other scheduled callbacks to the same number (soonest first): a second promise to call the
    /// same person is usually a duplicate. The API says so in its answer; the page marks the rows.
    /// </summary>
    public async Task<IReadOnlyList<Callback>> ScheduledForNumberAsync(Caller caller, string number, string? exceptId, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Callbacks.AsNoTracking()
            .Where(c => c.ToNumber == number && c.WorkspaceId == caller.WorkspaceId && c.Status == CallbackStatus.Scheduled && c.Id != exceptId)
            .OrderBy(c => c.ScheduledAt).Take(20).ToListAsync(cancellationToken);
    }

    /// <summary>Schedules the job that dispatches the callback at its time and remembers its id (cancel deletes it).</summary>
    internal async Task ScheduleJobAsync(Callback callback, CancellationToken cancellationToken)
    {
        try
        {
            var jobId = jobs.Schedule<CallbackDispatchJob>(j => j.RunAsync(callback.WorkspaceId, callback.Id, CancellationToken.None),
                new DateTimeOffset(DateTime.SpecifyKind(callback.ScheduledAt, DateTimeKind.Utc)));
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await db.Callbacks.Where(c => c.Id == callback.Id).ExecuteUpdateAsync(s => s.SetProperty(c => c.HangfireJobId, jobId), cancellationToken);
            callback.HangfireJobId = jobId;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            // The row is the record: the sweep dispatches due callbacks whatever happened to the job.
            logger.LogWarning(exception, "Could not schedule the dispatch job of callback {CallbackId}; the sweep will dispatch it", callback.Id);
        }
    }

    public Task<IReadOnlyList<Callback>> ListAsync(Caller caller, string? status, string? sourceSessionId, int limit, CancellationToken cancellationToken = default) =>
        ListAsync(caller, status, sourceSessionId, null, limit, cancellationToken);

    /// <summary>Soonest first; <paramref name="number"/> matches any part of the number called or calling from.</summary>
    public async Task<IReadOnlyList<Callback>> ListAsync(Caller caller, string? status, string? sourceSessionId, string? number, int limit, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await Filtered(db, caller, status, sourceSessionId, number).OrderBy(c => c.ScheduledAt).ThenBy(c => c.Id).Take(limit).ToListAsync(cancellationToken);
    }

    /// <summary>One page, soonest first, and how many match in all (the callbacks page, server-paged).</summary>
    public async Task<(IReadOnlyList<Callback> Items, int Total)> PageAsync(Caller caller, string? status, string? sourceSessionId, string? number, int offset, int limit, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = Filtered(db, caller, status, sourceSessionId, number);
        var items = await query.OrderBy(c => c.ScheduledAt).ThenBy(c => c.Id).Skip(Math.Max(0, offset)).Take(Math.Clamp(limit, 1, 200)).ToListAsync(cancellationToken);
        return (items, await query.CountAsync(cancellationToken));
    }

    private static IQueryable<Callback> Filtered(AppDbContext db, Caller caller, string? status, string? sourceSessionId, string? number)
    {
        var query = db.Callbacks.AsNoTracking().Where(c => c.WorkspaceId == caller.WorkspaceId);
        if (status is not null)
        {
            query = query.Where(c => c.Status == status);
        }

        if (sourceSessionId is not null)
        {
            query = query.Where(c => c.SourceSessionId == sourceSessionId);
        }

        if (!string.IsNullOrWhiteSpace(number))
        {
            var digits = number.Trim();
            query = query.Where(c => c.ToNumber.Contains(digits) || (c.FromNumber != null && c.FromNumber.Contains(digits)));
        }

        return query;
    }

    /// <summary>Scheduled callbacks still ahead, and when the next one is due (the dashboard's card).</summary>
    public async Task<(int Count, DateTime? Next)> UpcomingAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var upcoming = db.Callbacks.AsNoTracking().Where(c => c.WorkspaceId == caller.WorkspaceId && c.Status == CallbackStatus.Scheduled && c.ScheduledAt >= now);
        var count = await upcoming.CountAsync(cancellationToken);
        var next = await upcoming.OrderBy(c => c.ScheduledAt).Select(c => (DateTime?)c.ScheduledAt).FirstOrDefaultAsync(cancellationToken);
        return (count, next);
    }

    public async Task<Callback> GetAsync(Caller caller, string id, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Callbacks.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id && c.WorkspaceId == caller.WorkspaceId, cancellationToken)
            ?? throw new NotFoundException("Callback not found");
    }

    /// <summary>scheduled -> cancelled; from any other status 409.</summary>
    public async Task<Callback> CancelAsync(Caller caller, string id, string? reason, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var changed = await db.Callbacks
            .Where(c => c.Id == id && c.WorkspaceId == caller.WorkspaceId && c.Status == CallbackStatus.Scheduled)
            .ExecuteUpdateAsync(s => s
                .SetProperty(c => c.Status, CallbackStatus.Cancelled)
                .SetProperty(c => c.CancelledAt, now)
                .SetProperty(c => c.CancelReason, reason)
                .SetProperty(c => c.UpdatedAt, now), cancellationToken);
        var callback = await db.Callbacks.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id && c.WorkspaceId == caller.WorkspaceId, cancellationToken)
            ?? throw new NotFoundException("Callback not found");
        if (changed == 0)
        {
            throw new ConflictException($"Only a scheduled callback can be cancelled; this one is {callback.Status}.");
        }

        db.Record(caller, now, "callback.cancelled", "callback", id, reason);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (callback.HangfireJobId is { } jobId)
        {
            // A job that fires anyway finds the callback cancelled and does nothing.
            jobs.Delete(jobId);
        }

        notifier.Notify(caller.WorkspaceId);
        return callback;
    }

    /// <summary>The furthest a callback may be moved.</summary>
    public static readonly TimeSpan MaxReschedule = TimeSpan.FromDays(365);

    /// <summary>
    /// Moves a scheduled callback to <paramref name="at"/> (in the future, within a year), with a
    /// reason, audited with the old and new time. Its dispatch job moves with it: the old one is
    /// deleted and a new one scheduled (an old job that fires anyway finds it not yet due).
    /// </summary>
    public async Task<Callback> RescheduleAsync(Caller caller, string id, DateTime at, string? reason, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        reason = reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > 500)
        {
            throw new ValidationException("body", "reason", "Say why the callback moves (1 to 500 characters): the audit log keeps it.", "value_error");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        at = DateTime.SpecifyKind(at, DateTimeKind.Utc);
        if (at <= now.AddSeconds(30) || at > now + MaxReschedule)
        {
            throw new ValidationException("body", "scheduledAt", "The new time must be in the future and within a year.", "value_error");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var before = await db.Callbacks.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id && c.WorkspaceId == caller.WorkspaceId, cancellationToken)
            ?? throw new NotFoundException("Callback not found");
        var changed = await db.Callbacks
            .Where(c => c.Id == id && c.WorkspaceId == caller.WorkspaceId && c.Status == CallbackStatus.Scheduled)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.ScheduledAt, at).SetProperty(c => c.UpdatedAt, now), cancellationToken);
        if (changed == 0)
        {
            throw new ConflictException($"Only a scheduled callback can be moved; this one is {before.Status}.");
        }

        db.Record(caller, now, "callback.rescheduled", "callback", id, $"from {before.ScheduledAt:u} to {at:u}: {reason}");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (before.HangfireJobId is { } oldJob)
        {
            jobs.Delete(oldJob);
        }

        var callback = await db.Callbacks.AsNoTracking().FirstAsync(c => c.Id == id, cancellationToken);
        await ScheduleJobAsync(callback, cancellationToken);
        notifier.Notify(caller.WorkspaceId);
        return callback;
    }

    /// <summary>
    /// Places the callback's call now. Claims the row first (scheduled or failed -> dispatching,
    /// with a lease) in one conditional UPDATE, so of a click, the scheduled job and a second node
    /// exactly one places the call; the others get 409. Ends dispatched (with the created call)
    /// or failed (with the provider's reason), and emits callback.dispatched or callback.failed.
    /// </summary>
    public async Task<Callback> DispatchAsync(Caller caller, string id, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        return await DispatchCoreAsync(caller, id, [CallbackStatus.Scheduled, CallbackStatus.Failed], "callback.dispatched", cancellationToken);
    }

    /// <summary>The scheduled job's dispatch: only a callback still scheduled, and only once it is due.</summary>
    public async Task<Callback?> DispatchDueAsync(Guid workspaceId, string id, CancellationToken cancellationToken = default)
    {
        var caller = Caller.System(workspaceId, "scheduler");
        var now = clock.GetUtcNow().UtcDateTime;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            if (!await db.Callbacks.AnyAsync(c => c.Id == id && c.WorkspaceId == workspaceId && c.Status == CallbackStatus.Scheduled && c.ScheduledAt <= now, cancellationToken))
            {
                return null;
            }
        }

        if (await DeferForQuietHoursAsync(workspaceId, id, now, cancellationToken))
        {
            return null;
        }

        try
        {
            return await DispatchCoreAsync(caller, id, [CallbackStatus.Scheduled], "callback.dispatched", cancellationToken);
        }
        catch (ConflictException)
        {
            // Someone else dispatched or cancelled it in between.
            return null;
        }
    }

    /// <summary>
    /// A due callback whose callee is in the workspace's quiet hours waits: its time moves to the
    /// window's end in the callee's zone (remembering the time it was due at), audited as
    /// <c>callback.deferred</c>, and its job moves with it. True when it was deferred.
    /// </summary>
    private async Task<bool> DeferForQuietHoursAsync(Guid workspaceId, string id, DateTime now, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var window = await db.Workspaces.AsNoTracking().Where(w => w.Id == workspaceId)
            .Select(w => new { w.QuietHoursStart, w.QuietHoursEnd }).FirstOrDefaultAsync(cancellationToken);
        if (QuietHours.Of(window?.QuietHoursStart, window?.QuietHoursEnd) is not { } quiet)
        {
            return false;
        }

        var due = await db.Callbacks.AsNoTracking().FirstAsync(c => c.Id == id && c.WorkspaceId == workspaceId, cancellationToken);
        var (zone, _) = CalleeZone.For(due.ToNumber, due.CalleeTimeZone);
        var allowed = quiet.AllowedFrom(now, zone);
        if (allowed <= now)
        {
            return false;
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var originally = due.QuietDeferredFrom ?? due.ScheduledAt;
        var moved = await db.Callbacks
            .Where(c => c.Id == id && c.WorkspaceId == workspaceId && c.Status == CallbackStatus.Scheduled && c.ScheduledAt == due.ScheduledAt)
            .ExecuteUpdateAsync(s => s.SetProperty(c => c.ScheduledAt, allowed).SetProperty(c => c.QuietDeferredFrom, originally).SetProperty(c => c.UpdatedAt, now), cancellationToken);
        if (moved == 0)
        {
            // Cancelled, dispatched or moved meanwhile: whoever did it owns what happens next.
            return true;
        }

        db.Record(Caller.System(workspaceId, "quiet hours"), now, "callback.deferred", "callback", id,
            $"quiet hours {quiet.Text} in {zone.Id}: from {due.ScheduledAt:u} to {allowed:u}");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        if (due.HangfireJobId is { } oldJob)
        {
            jobs.Delete(oldJob);
        }

        await ScheduleJobAsync(await db.Callbacks.AsNoTracking().FirstAsync(c => c.Id == id, cancellationToken), cancellationToken);
        notifier.Notify(workspaceId);
        return true;
    }

    /// <summary>The workspace's quiet hours for callbacks, or null when there are none.</summary>
    public async Task<QuietHours?> GetQuietHoursAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var window = await db.Workspaces.AsNoTracking().Where(w => w.Id == caller.WorkspaceId)
            .Select(w => new { w.QuietHoursStart, w.QuietHoursEnd }).FirstOrDefaultAsync(cancellationToken);
        return QuietHours.Of(window?.QuietHoursStart, window?.QuietHoursEnd);
    }

    /// <summary>Sets (or, with nulls, removes) the workspace's quiet hours; admins only, audited.</summary>
    public async Task SetQuietHoursAsync(Caller caller, int? startMinute, int? endMinute, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        if ((startMinute is null) != (endMinute is null) || startMinute is < 0 or >= 1440 || endMinute is < 0 or >= 1440 || (startMinute is not null && startMinute == endMinute))
        {
            throw new ValidationException("body", "quietHours", "Quiet hours need a start and a different end, each a time of day (00:00 to 23:59); or neither, for none.", "value_error");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        await db.Workspaces.Where(w => w.Id == caller.WorkspaceId)
            .ExecuteUpdateAsync(s => s.SetProperty(w => w.QuietHoursStart, startMinute).SetProperty(w => w.QuietHoursEnd, endMinute), cancellationToken);
        db.Record(caller, now, "workspace.quiet_hours_set", "workspace", caller.WorkspaceId.ToString(),
            QuietHours.Of(startMinute, endMinute) is { } quiet ? $"callbacks wait during {quiet.Text} in the callee's time zone" : "no quiet hours");
        await db.SaveChangesAsync(cancellationToken);
        notifier.Notify(caller.WorkspaceId);
    }

    /// <summary>Sets the callee's time zone of a callback (an IANA id such as Europe/Paris), or with null goes back to the one of its number; audited.</summary>
    public async Task<Callback> SetTimeZoneAsync(Caller caller, string id, string? zoneId, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        zoneId = string.IsNullOrWhiteSpace(zoneId) ? null : zoneId.Trim();
        if (zoneId is not null && !CalleeZone.TryFind(zoneId, out _))
        {
            throw new ValidationException("body", "timeZone", $"'{zoneId}' is not a time zone; use an IANA name such as Europe/Paris or America/Chicago.", "value_error");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var callback = await db.Callbacks.FirstOrDefaultAsync(c => c.Id == id && c.WorkspaceId == caller.WorkspaceId, cancellationToken)
            ?? throw new NotFoundException("Callback not found");
        var before = callback.CalleeTimeZone;
        callback.CalleeTimeZone = zoneId;
        callback.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        db.Record(caller, callback.UpdatedAt, "callback.timezone_set", "callback", id,
            $"from {before ?? $"{CalleeZone.Derive(callback.ToNumber) ?? "UTC"} (from the number)"} to {zoneId ?? $"{CalleeZone.Derive(callback.ToNumber) ?? "UTC"} (from the number)"}");
        await db.SaveChangesAsync(cancellationToken);
        notifier.Notify(caller.WorkspaceId);
        return callback;
    }

    private async Task<Callback> DispatchCoreAsync(Caller caller, string id, string[] from, string action, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        Callback callback;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var claimed = await db.Callbacks
                .Where(c => c.Id == id && c.WorkspaceId == caller.WorkspaceId && from.Contains(c.Status))
                .ExecuteUpdateAsync(s => s
                    .SetProperty(c => c.Status, CallbackStatus.Dispatching)
                    .SetProperty(c => c.AttemptedAt, now)
                    .SetProperty(c => c.LeaseUntil, now + DispatchLease)
                    .SetProperty(c => c.UpdatedAt, now), cancellationToken);
            callback = await db.Callbacks.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id && c.WorkspaceId == caller.WorkspaceId, cancellationToken)
                ?? throw new NotFoundException("Callback not found");
            if (claimed == 0)
            {
                throw new ConflictException($"Only a scheduled or failed callback can be dispatched; this one is {callback.Status}.");
            }
        }

        notifier.Notify(caller.WorkspaceId);
        string? callId = null;
        string? failure = null;
        try
        {
            var call = await calls.PlaceAsync(Caller.System(caller.WorkspaceId, "callbacks"),
                new NewCall(callback.ToNumber, callback.FromNumber, now, "callback", null, null), callback.Id, cancellationToken);
            callId = call.Id;
        }
        catch (TelephonyException exception)
        {
            failure = exception.Message;
        }

        return await FinishDispatchAsync(caller, callback, callId, failure, action);
    }

    /// <summary>dispatching -> dispatched (with the call) or failed (with the cause), the audit entry and the event.</summary>
    internal async Task<Callback> FinishDispatchAsync(Caller caller, Callback callback, string? callId, string? failure, string action)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using (var db = await dbFactory.CreateDbContextAsync(CancellationToken.None))
        {
            await using var transaction = await db.Database.BeginTransactionAsync(CancellationToken.None);
            var rows = db.Callbacks.Where(c => c.Id == callback.Id && c.Status == CallbackStatus.Dispatching);
            var changed = callId is not null
                ? await rows.ExecuteUpdateAsync(s => s
                    .SetProperty(c => c.Status, CallbackStatus.Dispatched)
                    .SetProperty(c => c.DispatchedAt, now)
                    .SetProperty(c => c.CreatedSessionId, callId)
                    .SetProperty(c => c.FailureCause, (string?)null)
                    .SetProperty(c => c.LeaseUntil, (DateTime?)null)
                    .SetProperty(c => c.UpdatedAt, now))
                : await rows.ExecuteUpdateAsync(s => s
                    .SetProperty(c => c.Status, CallbackStatus.Failed)
                    .SetProperty(c => c.FailureCause, failure)
                    .SetProperty(c => c.LeaseUntil, (DateTime?)null)
                    .SetProperty(c => c.UpdatedAt, now));
            if (changed > 0)
            {
                db.Record(caller, now, callId is not null ? action : "callback.dispatch_failed", "callback", callback.Id,
                    callId is not null ? $"call {callId} to {callback.ToNumber}" : failure, callId is not null ? AuditOutcome.Success : AuditOutcome.Failure);
                await db.SaveChangesAsync(CancellationToken.None);
            }

            await transaction.CommitAsync(CancellationToken.None);
        }

        var result = await GetAsync(Caller.System(callback.WorkspaceId), callback.Id, CancellationToken.None);
        await PublishAsync(result);
        notifier.Notify(callback.WorkspaceId);
        return result;
    }

    private async Task PublishAsync(Callback callback)
    {
        if (callback.Status is not (CallbackStatus.Dispatched or CallbackStatus.Failed))
        {
            return;
        }

        try
        {
            var payload = JsonSerializer.Serialize(new { callback = CallbackApi.CallbackResponse.From(callback) }, ApiJson.SnakeCase);
            await events.PublishAsync(Caller.System(callback.WorkspaceId, "callbacks"),
                new NewEvent($"callback.{callback.Status}", "voice", payload, callback.CreatedSessionId, null, null), CancellationToken.None);
        }
        catch (Exception exception)
        {
            logger.LogError(exception, "Could not publish the event of callback {CallbackId}", callback.Id);
        }
    }
}
