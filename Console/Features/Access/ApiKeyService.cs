using DeliveryConsole.Data;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Features.Workspaces;
using DeliveryConsole.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Access;

/// <summary>A key as the owner sees it: never the secret part.</summary>
public sealed record ApiKeyView(Guid Id, string Name, string Prefix, Role Role, DateTime CreatedAt, string? CreatedBy, DateTime? LastUsedAt, DateTime? RevokedAt)
{
    public static ApiKeyView From(ApiKey key) =>
        new(key.Id, key.Name, key.Prefix, key.Role, key.CreatedAt, key.CreatedBy, key.LastUsedAt, key.RevokedAt);
}

/// <summary>The one moment the whole key exists outside its owner's hands.</summary>
public sealed record CreatedApiKey(ApiKeyView Key, string PlainTextKey);

/// <summary>What a valid bearer key resolves to.</summary>
public sealed record AuthenticatedKey(Guid Id, Guid WorkspaceId, Role Role, string Name, string Prefix);

public sealed class ApiKeyService(IDbContextFactory<AppDbContext> dbFactory, WorkspaceService workspaces, TimeProvider clock, ILogger<ApiKeyService> logger)
{
    private static readonly TimeSpan LastUsedResolution = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long a resolved key is trusted without asking the database again. A revoke in this
    /// process drops it at once; one made elsewhere (another node) takes effect within this time.
    /// </summary>
    public static readonly TimeSpan CacheLifetime = TimeSpan.FromSeconds(5);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (AuthenticatedKey Key, DateTime At)> _resolved = new();

    public async Task<CreatedApiKey> CreateAsync(Caller caller, string? name, Role role, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        var trimmed = string.IsNullOrWhiteSpace(name) ? $"{role.ToWire()} key" : name.Trim();
        if (trimmed.Length > 100)
        {
            throw new ValidationException("body", "name", "String should have at most 100 characters", "string_too_long");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var created = AddKey(db, caller.WorkspaceId, trimmed, role, caller.ActorName);
        db.Record(caller, created.Key.CreatedAt, "api_key.created", "api_key", created.Key.Id.ToString(), $"{created.Key.Prefix}… ({role.ToWire()}) \"{trimmed}\"");
        await db.SaveChangesAsync(cancellationToken);
        logger.LogInformation("API key {KeyPrefix} ({Role}) created in workspace {WorkspaceId} by {Actor}", created.Key.Prefix, role, caller.WorkspaceId, caller.ActorName);
        return created;
    }

    /// <summary>For the <c>keys create</c> command: creates the workspace when no workspace has that name.</summary>
    public async Task<(CreatedApiKey Key, Workspace Workspace, bool WorkspaceCreated)> CreateFromCommandLineAsync(string? workspaceName, Role role, string? name, CancellationToken cancellationToken = default)
    {
        var (workspace, workspaceCreated) = await workspaces.EnsureAsync(workspaceName, cancellationToken);
        var key = await CreateAsync(Caller.System(workspace.Id, "command line"), name, role, cancellationToken);
        return (key, workspace, workspaceCreated);
    }

    public async Task<IReadOnlyList<ApiKeyView>> ListAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var keys = await db.ApiKeys.AsNoTracking()
            .Where(k => k.WorkspaceId == caller.WorkspaceId)
            .OrderByDescending(k => k.CreatedAt)
            .ToListAsync(cancellationToken);
        return keys.Select(ApiKeyView.From).ToList();
    }

    /// <summary>Revokes a key of the caller's workspace; revoking twice is harmless. Another workspace's key is 404.</summary>
    public async Task<ApiKeyView> RevokeAsync(Caller caller, Guid id, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == id && k.WorkspaceId == caller.WorkspaceId, cancellationToken)
            ?? throw new NotFoundException("API key not found.");
        if (key.RevokedAt is null)
        {
            key.RevokedAt = clock.GetUtcNow().UtcDateTime;
            db.Record(caller, key.RevokedAt.Value, "api_key.revoked", "api_key", key.Id.ToString(), $"{key.Prefix}… \"{key.Name}\"");
            await db.SaveChangesAsync(cancellationToken);
            _resolved.TryRemove(key.Hash, out _);
            logger.LogInformation("API key {KeyPrefix} revoked by {Actor}", key.Prefix, caller.ActorName);
        }

        return ApiKeyView.From(key);
    }

    /// <summary>Resolves a bearer token; null for unknown or revoked keys.</summary>
    public async Task<AuthenticatedKey?> AuthenticateAsync(string token, CancellationToken cancellationToken = default)
    {
        if (!ApiKeyGenerator.LooksLikeKey(token))
        {
            return null;
        }

        var hash = ApiKeyGenerator.Hash(token);
        var now = clock.GetUtcNow().UtcDateTime;
        if (_resolved.TryGetValue(hash, out var cached) && now - cached.At < CacheLifetime)
        {
            return cached.Key;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var key = await db.ApiKeys.AsNoTracking()
            .Where(k => k.Hash == hash && k.RevokedAt == null)
            .Select(k => new { k.Id, k.WorkspaceId, k.Role, k.Name, k.Prefix, k.LastUsedAt })
            .FirstOrDefaultAsync(cancellationToken);
        if (key is null)
        {
            _resolved.TryRemove(hash, out _);
            return null;
        }

        if (key.LastUsedAt is null || now - key.LastUsedAt > LastUsedResolution)
        {
            await db.ApiKeys.Where(k => k.Id == key.Id).ExecuteUpdateAsync(s => s.SetProperty(k => k.LastUsedAt, now), cancellationToken);
        }

        var resolved = new AuthenticatedKey(key.Id, key.WorkspaceId, key.Role, key.Name, key.Prefix);
        if (_resolved.Count > 10_000)
        {
            _resolved.Clear();
        }

        _resolved[hash] = (resolved, now);
        return resolved;
    }

    private CreatedApiKey AddKey(AppDbContext db, Guid workspaceId, string name, Role role, string createdBy)
    {
        var plain = ApiKeyGenerator.NewKey();
        var key = new ApiKey
        {
            Id = Guid.CreateVersion7(),
            WorkspaceId = workspaceId,
            Name = name,
            Prefix = ApiKeyGenerator.PrefixOf(plain),
            Hash = ApiKeyGenerator.Hash(plain),
            Role = role,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
            CreatedBy = createdBy,
        };
        db.ApiKeys.Add(key);
        return new CreatedApiKey(ApiKeyView.From(key), plain);
    }
}
