using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Callbacks;

public sealed record NewCallback(
    string ToNumber, DateTime ScheduledAt, string? SourceSessionId, string? AgentId, string? PhoneNumberId, string? FromNumber,
    string? Reason, string? Instructions, string? Summary, string PipelineConfigJson, string MetadataJson);

/// <summary>
/// Callbacks of a workspace. State changes are conditional UPDATEs on the status, so a click, a
/// job and another node racing on one callback end in exactly one outcome.
/// </summary>
public sealed class CallbackService(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public async Task<Callback> CreateAsync(Caller caller, NewCallback request, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
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
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.Callbacks.Add(callback);
        db.Record(caller, now, "callback.created", "callback", callback.Id, $"to {callback.ToNumber} at {callback.ScheduledAt:u}");
        await db.SaveChangesAsync(cancellationToken);
        return callback;
    }

    public async Task<IReadOnlyList<Callback>> ListAsync(Caller caller, string? status, string? sourceSessionId, int limit, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.Callbacks.AsNoTracking().Where(c => c.WorkspaceId == caller.WorkspaceId);
        if (status is not null)
        {
            query = query.Where(c => c.Status == status);
        }

        if (sourceSessionId is not null)
        {
            query = query.Where(c => c.SourceSessionId == sourceSessionId);
        }

        return await query.OrderBy(c => c.ScheduledAt).ThenBy(c => c.Id).Take(limit).ToListAsync(cancellationToken);
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
        return callback;
    }
}
