using System.Text.Json;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Infrastructure.Api;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Calls.Telephony;

/// <summary>
/// Applies what the telephony provider reports about a call (ringing, answered, ended) with
/// conditional updates, so a late or repeated report cannot move a call backwards; a call that
/// ends emits <c>call.completed</c> (or <c>call.failed</c> when it failed or was not answered)
/// through the delivery engine. The event is published after the call row commits and then
/// marked; the sweep publishes for any ended call not yet marked (a crash in between).
/// </summary>
public sealed class CallLifecycle(IDbContextFactory<AppDbContext> dbFactory, EventService events, TimeProvider clock, ILogger<CallLifecycle> logger)
{
    private static readonly string[] Ended = [CallStatus.Completed, CallStatus.Failed, CallStatus.NoAnswer, CallStatus.Cancelled];

    /// <summary>Moves the call with this provider id to <paramref name="status"/>; false when it is unknown or already past it.</summary>
    public async Task<bool> ApplyAsync(string providerCallId, string status, string? recordingPath = null, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var callId = await db.Calls.Where(c => c.ProviderCallId == providerCallId).Select(c => c.Id).FirstOrDefaultAsync(cancellationToken);
        return callId is not null && await ApplyToCallAsync(callId, status, recordingPath, cancellationToken);
    }

    public async Task<bool> ApplyToCallAsync(string callId, string status, string? recordingPath = null, CancellationToken cancellationToken = default)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var calls = db.Calls.Where(c => c.Id == callId);
        var changed = status switch
        {
            CallStatus.Ringing => await calls.Where(c => c.Status == CallStatus.Scheduled)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Status, status).SetProperty(c => c.UpdatedAt, now), cancellationToken),
            CallStatus.InProgress => await calls.Where(c => c.Status == CallStatus.Scheduled || c.Status == CallStatus.Ringing)
                .ExecuteUpdateAsync(s => s.SetProperty(c => c.Status, status).SetProperty(c => c.CallStartTime, now).SetProperty(c => c.UpdatedAt, now), cancellationToken),
            CallStatus.Completed or CallStatus.Failed or CallStatus.NoAnswer or CallStatus.Cancelled => await calls.Where(c => !Ended.Contains(c.Status))
                .ExecuteUpdateAsync(s => s
                    .SetProperty(c => c.Status, status)
                    .SetProperty(c => c.CallEndTime, now)
                    .SetProperty(c => c.RecordingPath, c => recordingPath ?? c.RecordingPath)
                    .SetProperty(c => c.RecordingStatus, c => recordingPath != null ? "available" : c.RecordingStatus)
                    .SetProperty(c => c.UpdatedAt, now), cancellationToken),
            _ => 0,
        };
        if (changed > 0 && Ended.Contains(status))
        {
            await PublishEndedAsync(callId, cancellationToken);
        }

        return changed > 0;
    }

    /// <summary>Publishes the ended call's event, then marks it published (at least once).</summary>
    public async Task PublishEndedAsync(string callId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var call = await db.Calls.AsNoTracking().FirstOrDefaultAsync(c => c.Id == callId && c.EventPublishedAt == null, cancellationToken);
        if (call is null || !Ended.Contains(call.Status))
        {
            return;
        }

        var payload = JsonSerializer.Serialize(new
        {
            call = CallApi.CallResponse.From(call),
            // Filled with a freshly signed link by the payload enricher (again on every resend).
            recording_url = call.RecordingPath is null ? null : "pending",
        }, ApiJson.SnakeCase);
        var type = call.Status == CallStatus.Completed ? "call.completed" : "call.failed";
        var published = await events.PublishAsync(Caller.System(call.WorkspaceId, "telephony"),
            new NewEvent(type, "voice", payload, call.Id, call.ApplicationId, call.CampaignId), cancellationToken);
        await db.Calls.Where(c => c.Id == callId).ExecuteUpdateAsync(s => s.SetProperty(c => c.EventPublishedAt, clock.GetUtcNow().UtcDateTime), cancellationToken);
        logger.LogInformation("Call {CallId} ended as {Status}; event {EventId} published", call.Id, call.Status, published.EventId);
    }
}
