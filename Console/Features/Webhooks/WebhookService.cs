using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Webhooks;

public sealed record EndpointView(
    Guid Id,
    EndpointScope Scope,
    Guid? ApplicationId,
    Guid? CampaignId,
    string Url,
    EndpointStatus Status,
    string? DisabledReason,
    IReadOnlyList<string> EventTypes,
    int ContextLimit,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    int SecretVersion = 1,
    DateTime? PreviousSecretUntil = null)
{
    public static EndpointView From(WebhookEndpoint e) =>
        new(e.Id, e.Scope, e.ApplicationId, e.CampaignId, e.Url, e.Status, e.DisabledReason, e.EventTypes, e.ContextLimit, e.CreatedAt, e.UpdatedAt,
            e.SecretVersion, e.PreviousSecretProtected is null ? null : e.PreviousSecretUntil);

    public string StatusText => Status == EndpointStatus.Active ? "active" : "disabled";
}

/// <summary>A rotation's new secret (shown this once), its version, and until when the old one still signs (null: it stopped at once).</summary>
public sealed record RotatedSecret(string Secret, int Version, DateTime? PreviousSignsUntil);

/// <summary>An endpoint and its signing secret, returned only by create and rotate.</summary>
public sealed record EndpointWithSecret(EndpointView Endpoint, string Secret);

/// <summary>
/// Webhook endpoints of every scope: the workspace's master webhook and campaigns' webhooks
/// here, applications' finishedUrl through <see cref="ApplicationService"/>. Deleting an endpoint
/// keeps its history and ends its pending deliveries as failed, in one transaction.
/// </summary>
public sealed class WebhookService(IDbContextFactory<AppDbContext> dbFactory, EndpointSecrets secrets, SsrfGuard guard, TimeProvider clock)
{
    public const int DefaultContextLimit = 10;

    public async Task<EndpointView?> GetMasterAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var endpoint = await Master(db, caller).AsNoTracking().FirstOrDefaultAsync(cancellationToken);
        return endpoint is null ? null : EndpointView.From(endpoint);
    }

    /// <summary>Every live endpoint of the workspace: master first, then applications and campaigns.</summary>
    public async Task<IReadOnlyList<EndpointView>> ListAllAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var endpoints = await db.WebhookEndpoints.AsNoTracking()
            .Where(e => e.WorkspaceId == caller.WorkspaceId && e.DeletedAt == null)
            .OrderBy(e => e.Scope).ThenBy(e => e.CreatedAt)
            .ToListAsync(cancellationToken);
        return endpoints.Select(EndpointView.From).ToList();
    }

    /// <summary>Creates or updates the master webhook. A new secret is generated every time and returned once.</summary>
    public async Task<EndpointWithSecret> SaveMasterAsync(Caller caller, string url, IReadOnlyList<string>? eventTypes, int? contextLimit, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        url = await ValidateTargetAsync(url, "url", cancellationToken);
        if (contextLimit is < 0 or > 50)
        {
            throw new ValidationException("body", "contextLimit", "Input should be between 0 and 50", "range");
        }

        // The unique index on the workspace's live master endpoint makes racing first-time saves
        // fail but one; those run again and update the winner's row.
        return await UniqueConflict.RetryAsync(() => UpsertMasterAsync(caller, url, eventTypes, contextLimit, cancellationToken));
    }

    private async Task<EndpointWithSecret> UpsertMasterAsync(Caller caller, string url, IReadOnlyList<string>? eventTypes, int? contextLimit, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var secret = EndpointSecrets.NewSecret();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var endpoint = await Master(db, caller).FirstOrDefaultAsync(cancellationToken);
        var created = endpoint is null;
        if (endpoint is null)
        {
            endpoint = NewEndpoint(caller.WorkspaceId, EndpointScope.Master, url, secret, now);
            db.WebhookEndpoints.Add(endpoint);
        }
        else
        {
            endpoint.Url = url;
            endpoint.ReplaceSecret(secrets.Protect(secret), previousUntil: null);
            endpoint.UpdatedAt = now;
        }

        if (eventTypes is not null)
        {
            endpoint.EventTypes = [.. eventTypes];
        }

        endpoint.ContextLimit = contextLimit ?? (created ? DefaultContextLimit : endpoint.ContextLimit);
        db.Record(caller, now, created ? "webhook.created" : "webhook.updated", "webhook_endpoint", endpoint.Id.ToString(), $"master {url}; secret rotated");
        await db.SaveChangesAsync(cancellationToken);
        return new EndpointWithSecret(EndpointView.From(endpoint), secret);
    }

    public async Task DeleteMasterAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var endpoint = await Master(db, caller).FirstOrDefaultAsync(cancellationToken)
            ?? throw new NotFoundException("No webhook is configured for this workspace.");
        await DeleteEndpointAsync(db, caller, endpoint, cancellationToken);
    }

    public async Task<EndpointWithSecret> CreateCampaignWebhookAsync(Caller caller, Guid campaignId, string url, IReadOnlyList<string>? events, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        url = await ValidateTargetAsync(url, "url", cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await RequireCampaignAsync(db, caller, campaignId, cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var secret = EndpointSecrets.NewSecret();
        var endpoint = NewEndpoint(caller.WorkspaceId, EndpointScope.Campaign, url, secret, now);
        endpoint.CampaignId = campaignId;
        endpoint.EventTypes = [.. events ?? []];
        db.WebhookEndpoints.Add(endpoint);
        db.Record(caller, now, "webhook.created", "webhook_endpoint", endpoint.Id.ToString(), $"campaign {campaignId}: {url}");
        await db.SaveChangesAsync(cancellationToken);
        return new EndpointWithSecret(EndpointView.From(endpoint), secret);
    }

    public async Task<IReadOnlyList<EndpointView>> ListCampaignWebhooksAsync(Caller caller, Guid campaignId, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await RequireCampaignAsync(db, caller, campaignId, cancellationToken);
        var endpoints = await db.WebhookEndpoints.AsNoTracking()
            .Where(e => e.WorkspaceId == caller.WorkspaceId && e.CampaignId == campaignId && e.DeletedAt == null)
            .OrderBy(e => e.CreatedAt)
            .ToListAsync(cancellationToken);
        return endpoints.Select(EndpointView.From).ToList();
    }

    public async Task DeleteCampaignWebhookAsync(Caller caller, Guid campaignId, Guid webhookId, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await RequireCampaignAsync(db, caller, campaignId, cancellationToken);
        var endpoint = await db.WebhookEndpoints.FirstOrDefaultAsync(
                e => e.Id == webhookId && e.WorkspaceId == caller.WorkspaceId && e.CampaignId == campaignId && e.DeletedAt == null,
                cancellationToken)
            ?? throw new NotFoundException("Webhook not found.");
        await DeleteEndpointAsync(db, caller, endpoint, cancellationToken);
    }

    /// <summary>The URL's form, then where it resolves now (the connect-time check repeats that on every attempt).</summary>
    internal async Task<string> ValidateTargetAsync(string url, string field, CancellationToken cancellationToken)
    {
        var normalized = EndpointUrl.Validate(url, field);
        if (await guard.CheckAsync(new Uri(normalized), cancellationToken) is { } refusal)
        {
            throw new ValidationException("body", field, refusal, "url_blocked");
        }

        return normalized;
    }

    internal WebhookEndpoint NewEndpoint(Guid workspaceId, EndpointScope scope, string url, string secret, DateTime now) => new()
    {
        Id = Guid.CreateVersion7(),
        WorkspaceId = workspaceId,
        Scope = scope,
        Url = url,
        SecretProtected = secrets.Protect(secret),
        Status = EndpointStatus.Active,
        CreatedAt = now,
        UpdatedAt = now,
    };

    /// <summary>Soft-deletes the endpoint and fails its pending deliveries, with the audit entry, in one transaction.</summary>
    internal async Task DeleteEndpointAsync(AppDbContext db, Caller caller, WebhookEndpoint endpoint, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        // Joins the caller's transaction when there is one (an application update), else opens its own.
        await using var transaction = db.Database.CurrentTransaction is null ? await db.Database.BeginTransactionAsync(cancellationToken) : null;
        endpoint.DeletedAt = now;
        endpoint.Status = EndpointStatus.Disabled;
        endpoint.DisabledReason = "deleted";
        endpoint.UpdatedAt = now;
        var failed = await Deliveries.Engine.DeliveryLedger.FailPendingAsync(db, endpoint.Id, "endpoint deleted", now);
        db.Record(caller, now, "webhook.deleted", "webhook_endpoint", endpoint.Id.ToString(), $"{endpoint.Scope} {endpoint.Url}; {failed} pending deliveries failed");
        await db.SaveChangesAsync(cancellationToken);
        if (transaction is not null)
        {
            await transaction.CommitAsync(cancellationToken);
        }
    }

    private static IQueryable<WebhookEndpoint> Master(AppDbContext db, Caller caller) =>
        db.WebhookEndpoints.Where(e => e.WorkspaceId == caller.WorkspaceId && e.Scope == EndpointScope.Master && e.DeletedAt == null);

    private static async Task RequireCampaignAsync(AppDbContext db, Caller caller, Guid campaignId, CancellationToken cancellationToken)
    {
        if (!await db.Campaigns.AnyAsync(c => c.Id == campaignId && c.WorkspaceId == caller.WorkspaceId, cancellationToken))
        {
            throw new NotFoundException("Campaign not found.");
        }
    }
}
