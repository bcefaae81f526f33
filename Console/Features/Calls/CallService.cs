using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Calls;

public sealed record NewCall(string ToNumber, string? FromNumber, DateTime? CallTime, string? CallType, string? LoadId, string? LoadNumber);

/// <summary>Calls of a workspace. Placing and ending calls through the telephony provider is issue #6's work.</summary>
public sealed class CallService(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public async Task<Call> GetAsync(Caller caller, string id, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Calls.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id && c.WorkspaceId == caller.WorkspaceId, cancellationToken)
            ?? throw new NotFoundException("Call not found");
    }

    public async Task<IReadOnlyList<Call>> RecentAsync(Caller caller, int take, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Calls.AsNoTracking().Where(c => c.WorkspaceId == caller.WorkspaceId)
            .OrderByDescending(c => c.CreatedAt).Take(Math.Clamp(take, 1, 500)).ToListAsync(cancellationToken);
    }

    /// <summary>Records an outbound call, SCHEDULED for <see cref="NewCall.CallTime"/> (default now).</summary>
    public async Task<Call> CreateAsync(Caller caller, NewCall request, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        var now = clock.GetUtcNow().UtcDateTime;
        var call = new Call
        {
            Id = Call.NewId(),
            WorkspaceId = caller.WorkspaceId,
            Status = CallStatus.Scheduled,
            Direction = "OUTBOUND",
            PhoneNumber = request.ToNumber,
            ToNumber = request.ToNumber,
            FromNumber = request.FromNumber,
            CallTime = request.CallTime ?? now,
            CallType = request.CallType,
            LoadId = request.LoadId,
            LoadNumber = request.LoadNumber,
            CreatedById = caller.ActorId,
            RecordingStatus = "none",
            CreatedAt = now,
            UpdatedAt = now,
        };
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.Calls.Add(call);
        db.Record(caller, now, "call.created", "call", call.Id, $"to {call.ToNumber}");
        await db.SaveChangesAsync(cancellationToken);
        return call;
    }
}
