using System.Security.Claims;
using System.Security.Cryptography;
using DeliveryConsole.Data;
using DeliveryConsole.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Access;

/// <summary>
/// One signed-in browser: made at sign-in, named in its cookie (<see cref="UserSessions.Claim"/>),
/// and checked on every request that carries the cookie. Ending it (sign-out, a password change, a
/// disabled account) makes the cookie worthless at once, on every node, wherever it was copied to.
/// </summary>
public sealed class UserSession
{
    /// <summary>40 random characters; the cookie (encrypted and signed) carries it.</summary>
    public required string Id { get; init; }
    public required string UserId { get; init; }
    public DateTime CreatedAt { get; init; }
    /// <summary>Renewed at most every few minutes while the session is used.</summary>
    public DateTime LastSeenAt { get; set; }
    public DateTime? EndedAt { get; set; }
    /// <summary><c>signed_out</c>, <c>password_changed</c>, <c>password_reset</c>, <c>disabled</c>.</summary>
    public string? EndedReason { get; set; }
    public string? UserAgent { get; init; }
    public string? Address { get; init; }
}

internal sealed class UserSessionConfiguration : IEntityTypeConfiguration<UserSession>
{
    public void Configure(EntityTypeBuilder<UserSession> builder)
    {
        builder.ToTable("user_sessions");
        builder.Property(s => s.Id).HasMaxLength(64);
        builder.Property(s => s.EndedReason).HasMaxLength(40);
        builder.Property(s => s.UserAgent).HasMaxLength(300);
        builder.Property(s => s.Address).HasMaxLength(64);
        builder.HasIndex(s => s.UserId);
        builder.HasOne<ApplicationUser>().WithMany().HasForeignKey(s => s.UserId).OnDelete(DeleteBehavior.Cascade);
    }
}

/// <summary>A session or every session of a user ended: what open circuits listen for.</summary>
public sealed record SessionsEnded(string? SessionId, string? UserId);

/// <summary>
/// The server side of console sign-in. A cookie is good only while its session row is live: the
/// row is read on every request that carries one (a primary-key read; no cache, so an ended session
/// is refused by the very next request on any node), and open circuits are told at once through
/// <see cref="Ended"/> (on this node directly, on the others through the cluster's signals).
/// </summary>
public sealed class UserSessions
{
    /// <summary>The claim of the cookie that names its session.</summary>
    public const string Claim = "dc:session";

    /// <summary>How often a used session's LastSeenAt is written (a write per request would be a write per page asset).</summary>
    private static readonly TimeSpan TouchEvery = TimeSpan.FromMinutes(5);

    private readonly IDbContextFactory<AppDbContext> _dbFactory;
    private readonly IClusterSignals _cluster;
    private readonly TimeProvider _clock;
    private readonly ILogger<UserSessions> _logger;

    public UserSessions(IDbContextFactory<AppDbContext> dbFactory, IClusterSignals cluster, TimeProvider clock, ILogger<UserSessions> logger)
    {
        _dbFactory = dbFactory;
        _cluster = cluster;
        _clock = clock;
        _logger = logger;
        cluster.Subscribe(ClusterChannels.Sessions, payload =>
        {
            if (payload == ClusterChannels.Resync)
            {
                // Signals may have been missed: every open circuit re-reads its session.
                Ended?.Invoke(new SessionsEnded(null, null));
            }
            else if (payload.StartsWith("s:", StringComparison.Ordinal))
            {
                Ended?.Invoke(new SessionsEnded(payload[2..], null));
            }
            else if (payload.StartsWith("u:", StringComparison.Ordinal))
            {
                Ended?.Invoke(new SessionsEnded(null, payload[2..]));
            }
        });
    }

    /// <summary>How long an unused session lives: the sign-in cookie's lifetime.</summary>
    public static TimeSpan Lifetime { get; } = TimeSpan.FromHours(12);

    /// <summary>Raised when sessions end, here or on another node. Handlers must be quick.</summary>
    public event Action<SessionsEnded>? Ended;

    /// <summary>A new session for a user who just proved who they are; the user's dead sessions are removed meanwhile.</summary>
    public async Task<string> StartAsync(string userId, string? userAgent, string? address, CancellationToken cancellationToken = default)
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        var id = RandomNumberGenerator.GetString("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", 40);
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var deadBefore = now - Lifetime - TouchEvery;
        await db.Set<UserSession>()
            .Where(s => s.UserId == userId && (s.EndedAt != null || s.LastSeenAt < deadBefore))
            .ExecuteDeleteAsync(cancellationToken);
        db.Set<UserSession>().Add(new UserSession
        {
            Id = id,
            UserId = userId,
            CreatedAt = now,
            LastSeenAt = now,
            UserAgent = userAgent is { Length: > 300 } ? userAgent[..300] : userAgent,
            Address = address,
        });
        await db.SaveChangesAsync(cancellationToken);
        return id;
    }

    /// <summary>True while the session exists, belongs to <paramref name="userId"/>, was not ended and was used within its lifetime.</summary>
    public async Task<bool> IsLiveAsync(string? sessionId, string? userId, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(sessionId) || string.IsNullOrEmpty(userId))
        {
            return false;
        }

        var now = _clock.GetUtcNow().UtcDateTime;
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var session = await db.Set<UserSession>().AsNoTracking()
            .Where(s => s.Id == sessionId)
            .Select(s => new { s.UserId, s.EndedAt, s.LastSeenAt })
            .FirstOrDefaultAsync(cancellationToken);
        if (session is null || session.UserId != userId || session.EndedAt is not null || now - session.LastSeenAt > Lifetime + TouchEvery)
        {
            return false;
        }

        if (now - session.LastSeenAt > TouchEvery)
        {
            try
            {
                await db.Set<UserSession>().Where(s => s.Id == sessionId && s.EndedAt == null)
                    .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastSeenAt, now), cancellationToken);
            }
            catch (Exception exception) when (exception is System.Data.Common.DbException or DbUpdateException)
            {
                // A busy database delays the mark, not the request; the next request tries again.
                _logger.LogDebug(exception, "Could not mark session use");
            }
        }

        return true;
    }

    /// <summary>Ends one session (sign-out).</summary>
    public async Task EndAsync(string sessionId, string reason, CancellationToken cancellationToken = default)
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Set<UserSession>().Where(s => s.Id == sessionId && s.EndedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.EndedAt, now).SetProperty(x => x.EndedReason, reason), cancellationToken);
        Announce(new SessionsEnded(sessionId, null), "s:" + sessionId);
    }

    /// <summary>Ends every session of a user (a password change or reset, a disabled account).</summary>
    public async Task EndAllAsync(string userId, string reason, CancellationToken cancellationToken = default)
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        await using var db = await _dbFactory.CreateDbContextAsync(cancellationToken);
        var ended = await db.Set<UserSession>().Where(s => s.UserId == userId && s.EndedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.EndedAt, now).SetProperty(x => x.EndedReason, reason), cancellationToken);
        _logger.LogInformation("Ended {Sessions} sessions of user {UserId} ({Reason})", ended, userId, reason);
        Announce(new SessionsEnded(null, userId), "u:" + userId);
    }

    /// <summary>The cookie check, before Identity's security stamp check: a cookie whose session is not live is refused and removed.</summary>
    public static async Task<bool> ValidateAsync(CookieValidatePrincipalContext context)
    {
        var sessions = context.HttpContext.RequestServices.GetRequiredService<UserSessions>();
        var principal = context.Principal;
        if (await sessions.IsLiveAsync(principal?.FindFirstValue(Claim), principal?.FindFirstValue(ClaimTypes.NameIdentifier), context.HttpContext.RequestAborted))
        {
            return true;
        }

        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(context.Scheme.Name);
        return false;
    }

    private void Announce(SessionsEnded ended, string payload)
    {
        Ended?.Invoke(ended);
        _cluster.Publish(ClusterChannels.Sessions, payload);
    }
}
