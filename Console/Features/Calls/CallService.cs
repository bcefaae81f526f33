using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Features.Calls.Telephony;
using DeliveryConsole.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Calls;

public sealed record NewCall(string ToNumber, string? FromNumber, DateTime? CallTime, string? CallType, string? LoadId, string? LoadNumber);

/// <summary>What the calls list filters, searches and orders by (reference/calls.txt).</summary>
public sealed record CallQuery
{
    public string? Status { get; init; }
    /// <summary>Created at or after (UTC).</summary>
    public DateTime? From { get; init; }
    /// <summary>Created before (UTC).</summary>
    public DateTime? To { get; init; }
    public string? Search { get; init; }
    public string OrderBy { get; init; } = "created_at";
    public bool OrderDesc { get; init; } = true;
    public int Page { get; init; } = 1;
    public int PageSize { get; init; } = 20;

    public static readonly string[] OrderFields = ["created_at", "updated_at", "call_time", "call_start_time", "call_end_time", "status"];

    public static readonly string[] TimePeriods = ["today", "yesterday", "last_7_days", "last_30_days", "custom"];

    /// <summary>
    /// The UTC creation range of a time period: today, yesterday, the last 7 or 30 days (today
    /// included); any other period (custom, or none) is <paramref name="start"/> to <paramref name="end"/>, both days included.
    /// </summary>
    public static (DateTime? From, DateTime? To) Range(string? period, DateOnly today, DateOnly? start, DateOnly? end)
    {
        static DateTime At(DateOnly day) => day.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc);
        return period switch
        {
            "today" => (At(today), null),
            "yesterday" => (At(today.AddDays(-1)), At(today)),
            "last_7_days" => (At(today.AddDays(-6)), null),
            "last_30_days" => (At(today.AddDays(-29)), null),
            _ => (start is { } from ? At(from) : null, end is { } to ? (to == DateOnly.MaxValue ? DateTime.SpecifyKind(DateTime.MaxValue, DateTimeKind.Utc) : At(to.AddDays(1))) : null),
        };
    }
}

/// <summary>
/// Calls of a workspace: the list, placing a call through the telephony provider, ending and
/// joining live calls, and the recording file.
/// </summary>
public sealed class CallService(
    IDbContextFactory<AppDbContext> dbFactory,
    ITelephonyProvider telephony,
    CallLifecycle lifecycle,
    IOptions<DatabaseOptions> database,
    TimeProvider clock)
{
    public async Task<Call> GetAsync(Caller caller, string id, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Calls.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id && c.WorkspaceId == caller.WorkspaceId, cancellationToken)
            ?? throw new NotFoundException("Call not found");
    }

    /// <summary>Calls ringing or in progress now (the dashboard's card).</summary>
    public async Task<int> LiveCountAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Calls.AsNoTracking()
            .CountAsync(c => c.WorkspaceId == caller.WorkspaceId && (c.Status == CallStatus.Ringing || c.Status == CallStatus.InProgress), cancellationToken);
    }

    public async Task<(IReadOnlyList<Call> Items, int Total)> ListAsync(Caller caller, CallQuery query, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var calls = db.Calls.AsNoTracking().Where(c => c.WorkspaceId == caller.WorkspaceId);
        if (query.Status is { } status)
        {
            calls = calls.Where(c => c.Status == status);
        }

        if (query.From is { } from)
        {
            calls = calls.Where(c => c.CreatedAt >= from);
        }

        if (query.To is { } to)
        {
            calls = calls.Where(c => c.CreatedAt < to);
        }

        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var term = query.Search.Trim();
            // Case-insensitive on both providers (PostgreSQL's LIKE is case-sensitive, SQLite's is not): both sides lowercased.
            var like = $"%{term.ToLowerInvariant().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_")}%";
            calls = calls.Where(c => c.Id == term
                || EF.Functions.Like(c.PhoneNumber!.ToLower(), like, "\\") || EF.Functions.Like(c.ToNumber!.ToLower(), like, "\\") || EF.Functions.Like(c.FromNumber!.ToLower(), like, "\\")
                || EF.Functions.Like(c.CallType!.ToLower(), like, "\\") || EF.Functions.Like(c.LoadNumber!.ToLower(), like, "\\") || c.LoadId == term);
        }

        var total = await calls.CountAsync(cancellationToken);
        var ordered = (query.OrderBy, query.OrderDesc) switch
        {
            ("updated_at", true) => calls.OrderByDescending(c => c.UpdatedAt),
            ("updated_at", false) => calls.OrderBy(c => c.UpdatedAt),
            ("call_time", true) => calls.OrderByDescending(c => c.CallTime),
            ("call_time", false) => calls.OrderBy(c => c.CallTime),
            ("call_start_time", true) => calls.OrderByDescending(c => c.CallStartTime),
            ("call_start_time", false) => calls.OrderBy(c => c.CallStartTime),
            ("call_end_time", true) => calls.OrderByDescending(c => c.CallEndTime),
            ("call_end_time", false) => calls.OrderBy(c => c.CallEndTime),
            ("status", true) => calls.OrderByDescending(c => c.Status),
            ("status", false) => calls.OrderBy(c => c.Status),
            (_, false) => calls.OrderBy(c => c.CreatedAt),
            _ => calls.OrderByDescending(c => c.CreatedAt),
        };
        var items = await (query.OrderDesc ? ordered.ThenByDescending(c => c.Id) : ordered.ThenBy(c => c.Id))
            .Skip((int)Math.Min(int.MaxValue, ((long)query.Page - 1) * query.PageSize)).Take(query.PageSize)
            .ToListAsync(cancellationToken);
        return (items, total);
    }

    /// <summary>Creates an outbound call and dials it through the provider (POST /api/v1/calls).</summary>
    public async Task<Call> CreateAsync(Caller caller, NewCall request, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        var call = await PlaceAsync(caller, request, callbackId: null, cancellationToken);
        return call;
    }

    /// <summary>
    /// Stores the call, then dials. A refusal leaves the call FAILED and throws
    /// <see cref="TelephonyException"/> with the provider's reason. Callers check the role.
    /// </summary>
    internal async Task<Call> PlaceAsync(Caller caller, NewCall request, string? callbackId, CancellationToken cancellationToken = default)
    {
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
            CallbackId = callbackId,
            CreatedAt = now,
            UpdatedAt = now,
        };
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            db.Calls.Add(call);
            db.Record(caller, now, "call.created", "call", call.Id, callbackId is null ? $"to {call.ToNumber}" : $"to {call.ToNumber} for {callbackId}");
            await db.SaveChangesAsync(cancellationToken);
        }

        DialResult dialled;
        try
        {
            dialled = await telephony.DialAsync(call, cancellationToken);
        }
        catch (TelephonyException exception)
        {
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            await db.Calls.Where(c => c.Id == call.Id).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.Status, CallStatus.Failed)
                .SetProperty(c => c.CallEndTime, now)
                // A call that never rang is not reported as call.failed to customers.
                .SetProperty(c => c.EventPublishedAt, now)
                .SetProperty(c => c.UpdatedAt, clock.GetUtcNow().UtcDateTime), CancellationToken.None);
            throw new TelephonyException(exception.Message);
        }

        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            await db.Calls.Where(c => c.Id == call.Id).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.ProviderCallId, dialled.ProviderCallId)
                .SetProperty(c => c.UpdatedAt, clock.GetUtcNow().UtcDateTime), cancellationToken);
        }

        // The provider reports RINGING itself; a fast provider may already have.
        await lifecycle.ApplyToCallAsync(call.Id, CallStatus.Ringing, cancellationToken: cancellationToken);
        return await GetAsync(caller, call.Id, cancellationToken);
    }

    /// <summary>Ends a live call (409 otherwise); the provider hangs up and call.completed goes out.</summary>
    public async Task<Call> EndAsync(Caller caller, string id, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        var call = await GetAsync(caller, id, cancellationToken);
        if (!call.IsLive)
        {
            throw new ConflictException($"Only a ringing or in-progress call can be ended; this one is {call.Status}.");
        }

        try
        {
            await telephony.EndAsync(call, cancellationToken);
        }
        catch (TelephonyException exception)
        {
            throw new ConflictException(exception.Message);
        }

        // The Http provider confirms through its events; mark it ended now either way.
        await lifecycle.ApplyToCallAsync(call.Id, CallStatus.Completed, cancellationToken: cancellationToken);
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            db.Record(caller, clock.GetUtcNow().UtcDateTime, "call.ended", "call", call.Id, $"to {call.ToNumber}");
            await db.SaveChangesAsync(cancellationToken);
        }

        return await GetAsync(caller, id, cancellationToken);
    }

    /// <summary>A URL to listen in on a live call (409 otherwise).</summary>
    public async Task<JoinResult> JoinAsync(Caller caller, string id, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Operator);
        var call = await GetAsync(caller, id, cancellationToken);
        if (!call.IsLive)
        {
            throw new ConflictException($"Only a ringing or in-progress call can be joined; this one is {call.Status}.");
        }

        JoinResult joined;
        try
        {
            joined = await telephony.JoinAsync(call, cancellationToken);
        }
        catch (TelephonyException exception)
        {
            throw new ConflictException(exception.Message);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.Record(caller, clock.GetUtcNow().UtcDateTime, "call.joined", "call", call.Id, $"link expires {joined.ExpiresAt:u}");
        await db.SaveChangesAsync(cancellationToken);
        return joined;
    }

    /// <summary>The recording's file, or null while there is none. Callers check access first.</summary>
    public string? RecordingFile(Call call)
    {
        if (call.RecordingPath is null)
        {
            return null;
        }

        var root = Path.GetFullPath(database.Value.DataFolder);
        var path = Path.GetFullPath(Path.Combine(root, call.RecordingPath));
        return path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal) && File.Exists(path) ? path : null;
    }

    /// <summary>The recording of a call of any workspace, for a signed link (the link is the authorization).</summary>
    /// <summary>The recording a signed link names: only a call of the workspace the link was signed for.</summary>
    public async Task<string?> RecordingFileForLinkAsync(Guid workspaceId, string callId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var call = await db.Calls.AsNoTracking().FirstOrDefaultAsync(c => c.Id == callId && c.WorkspaceId == workspaceId, cancellationToken);
        return call is null ? null : RecordingFile(call);
    }
}
