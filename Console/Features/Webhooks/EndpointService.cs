using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Features.Stats;
using DeliveryConsole.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Webhooks;

/// <summary>One row of the Webhooks page and the dashboard's endpoint health: an endpoint of any scope, what it belongs to and how it is doing.</summary>
public sealed record EndpointOverview(
    EndpointView Endpoint,
    string OwnerName,
    int ConsecutiveFailures,
    DateTime? LastFailureAt,
    string? LastError,
    DateTime? LastSuccessAt,
    DateTime? DisabledAt,
    long Delivered,
    long Failed,
    long Pending)
{
    /// <summary>Delivered over finished deliveries created in the last 24 h; null when none finished.</summary>
    public double? SuccessRate => Delivered + Failed == 0 ? null : (double)Delivered / (Delivered + Failed);
}

/// <summary>
/// Manages any endpoint by id, whatever its scope: the Webhooks page's edit, disable/enable,
/// rotate-secret and delete. An application's finishedUrl stays in step with its endpoint.
/// </summary>
public sealed class EndpointService(IDbContextFactory<AppDbContext> dbFactory, WebhookService webhooks, ApplicationService applications, EndpointSecrets secrets, TimeProvider clock)
{
    /// <summary>Known event types, offered when choosing what an endpoint receives (others can be typed).</summary>
    public static readonly IReadOnlyList<string> KnownEventTypes =
    [
        "call.completed", "call.failed", "callback.dispatched", "callback.failed",
        "campaign.started", "campaign.completed", "sms.delivered",
    ];

    /// <summary>Every live endpoint of the caller's workspace with its owner's name ("Workspace webhook", an application's or a campaign's), without figures.</summary>
    public async Task<IReadOnlyList<(WebhookEndpoint Endpoint, string OwnerName)>> NamedAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await NamedAsync(db, caller.WorkspaceId, cancellationToken);
    }

    internal static async Task<List<(WebhookEndpoint Endpoint, string OwnerName)>> NamedAsync(AppDbContext db, Guid workspaceId, CancellationToken cancellationToken)
    {
        var endpoints = await db.WebhookEndpoints.AsNoTracking()
            .Where(e => e.WorkspaceId == workspaceId && e.DeletedAt == null)
            .ToListAsync(cancellationToken);
        var applications = await db.Applications.AsNoTracking().Where(a => a.WorkspaceId == workspaceId)
            .ToDictionaryAsync(a => a.Id, a => a.Name, cancellationToken);
        var campaigns = await db.Campaigns.AsNoTracking().Where(c => c.WorkspaceId == workspaceId)
            .ToDictionaryAsync(c => c.Id, c => c.Name, cancellationToken);
        return endpoints.Select(e => (e, e.Scope switch
        {
            EndpointScope.Master => "Workspace webhook",
            EndpointScope.Application => e.ApplicationId is { } a && applications.TryGetValue(a, out var name) ? name : "Application",
            _ => e.CampaignId is { } c && campaigns.TryGetValue(c, out var name) ? name : "Campaign",
        })).ToList();
    }

    /// <summary>Every live endpoint with its owner and its deliveries of the window (default: last 24 h) from the hourly rollups, worst first.</summary>
    public async Task<IReadOnlyList<EndpointOverview>> OverviewAsync(Caller caller, StatsWindow? window = null, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        var (since, until) = window ?? StatsWindow.Last(24, clock.GetUtcNow().UtcDateTime);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var endpoints = await NamedAsync(db, caller.WorkspaceId, cancellationToken);
        var recent = await db.DeliveryRollups.AsNoTracking()
            .Where(r => r.WorkspaceId == caller.WorkspaceId && r.HourStart >= since && r.HourStart < until)
            .GroupBy(r => r.EndpointId)
            .Select(g => new { EndpointId = g.Key, Delivered = g.Sum(r => r.Delivered), Failed = g.Sum(r => r.Failed), Pending = g.Sum(r => r.Pending) })
            .ToDictionaryAsync(r => r.EndpointId, cancellationToken);

        return endpoints
            .Select(named =>
            {
                var e = named.Endpoint;
                recent.TryGetValue(e.Id, out var r);
                return new EndpointOverview(EndpointView.From(e), named.OwnerName, e.ConsecutiveFailures, e.LastFailureAt, e.LastError, e.LastSuccessAt, e.DisabledAt,
                    r?.Delivered ?? 0, r?.Failed ?? 0, r?.Pending ?? 0);
            })
            .OrderBy(o => o.Endpoint.Status == EndpointStatus.Active ? 1 : 0)
            .ThenBy(o => o.SuccessRate ?? 2)
            .ThenByDescending(o => o.ConsecutiveFailures)
            .ThenBy(o => o.Endpoint.Scope).ThenBy(o => o.Endpoint.CreatedAt)
            .ToList();
    }

    /// <summary>
    /// Creates an endpoint of the form's scope: the master webhook, an application's finishedUrl
    /// (all of its events) or a campaign webhook. Returns its signing secret, shown once.
    /// </summary>
    public async Task<EndpointWithSecret> CreateAsync(Caller caller, EndpointForm form, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        var types = ValidateEventTypes(form.EventTypes);
        switch (form.Scope)
        {
            case EndpointScope.Master:
                if (await webhooks.GetMasterAsync(caller, cancellationToken) is not null)
                {
                    throw new ConflictException("The workspace already has a webhook; edit it instead.");
                }

                return await webhooks.SaveMasterAsync(caller, form.Url, types, null, cancellationToken);
            case EndpointScope.Campaign:
                return await webhooks.CreateCampaignWebhookAsync(caller, form.OwnerId ?? throw new ValidationException("body", "campaignId", "Choose a campaign", "missing"),
                    form.Url, types, cancellationToken);
            default:
                var applicationId = form.OwnerId ?? throw new ValidationException("body", "applicationId", "Choose an application", "missing");
                if ((await applications.GetAsync(caller, applicationId, cancellationToken)).FinishedUrl is not null)
                {
                    throw new ConflictException("That application already has a finished URL; edit it instead.");
                }

                var written = await applications.UpdateAsync(caller, applicationId, null, true, form.Url, cancellationToken);
                await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
                {
                    var endpoint = await db.WebhookEndpoints.AsNoTracking().FirstAsync(e => e.Id == written.Application.EndpointId, cancellationToken);
                    return new EndpointWithSecret(EndpointView.From(endpoint), written.SigningSecret!);
                }
        }
    }

    /// <summary>Changes where an endpoint sends and what it receives. The secret stays; an application's finishedUrl follows.</summary>
    public async Task<EndpointView> UpdateAsync(Caller caller, Guid id, string url, IReadOnlyList<string> eventTypes, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        url = await webhooks.ValidateTargetAsync(url, "url", cancellationToken);
        var types = ValidateEventTypes(eventTypes);
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var endpoint = await FindAsync(db, caller, id, cancellationToken);
        if (endpoint.Scope == EndpointScope.Application && endpoint.ApplicationId is { } applicationId
            && await db.Applications.FirstOrDefaultAsync(a => a.Id == applicationId, cancellationToken) is { } application)
        {
            application.FinishedUrl = url;
            application.UpdatedAt = now;
        }

        var before = endpoint.Url;
        endpoint.Url = url;
        endpoint.EventTypes = types;
        endpoint.UpdatedAt = now;
        db.Record(caller, now, "webhook.updated", "webhook_endpoint", endpoint.Id.ToString(),
            $"{Describe(endpoint)}: {before} -> {url}; events {(types.Count == 0 ? "all" : string.Join(", ", types))}");
        await db.SaveChangesAsync(cancellationToken);
        return EndpointView.From(endpoint);
    }

    /// <summary>Stops (or resumes) sending. Enabling clears the failure streak that may have disabled it.</summary>
    public async Task<EndpointView> SetEnabledAsync(Caller caller, Guid id, bool enabled, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var endpoint = await FindAsync(db, caller, id, cancellationToken);
        if (enabled == (endpoint.Status == EndpointStatus.Active))
        {
            return EndpointView.From(endpoint);
        }

        endpoint.Status = enabled ? EndpointStatus.Active : EndpointStatus.Disabled;
        endpoint.DisabledReason = enabled ? null : $"disabled by {caller.ActorName}";
        endpoint.DisabledAt = enabled ? null : now;
        endpoint.UpdatedAt = now;
        db.Record(caller, now, enabled ? "webhook.enabled" : "webhook.disabled", "webhook_endpoint", endpoint.Id.ToString(), Describe(endpoint));
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        if (enabled)
        {
            // Enabled again: its failure streak starts over (the ledger owns the endpoint's health).
            await Deliveries.Engine.DeliveryLedger.ResetFailureStreakAsync(db, endpoint.Id);
        }

        await transaction.CommitAsync(cancellationToken);
        return EndpointView.From(endpoint);
    }

    /// <summary>The longest a rotated-away secret may keep signing.</summary>
    public static readonly TimeSpan MaxRotationGrace = TimeSpan.FromDays(7);

    /// <summary>
    /// A new signing secret, returned this once. During <paramref name="grace"/> (0 to 7 days) the
    /// old one signs too, both signatures in one header, so the customer can switch their receiver
    /// to the new secret without rejecting a webhook; with no grace the old one stops at once.
    /// </summary>
    public async Task<RotatedSecret> RotateSecretAsync(Caller caller, Guid id, TimeSpan grace, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        if (grace < TimeSpan.Zero || grace > MaxRotationGrace)
        {
            throw new ValidationException("body", "graceMinutes", "The grace period is 0 to 7 days (10080 minutes).", "value_error");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        var secret = EndpointSecrets.NewSecret();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var endpoint = await FindAsync(db, caller, id, cancellationToken);
        var until = grace > TimeSpan.Zero ? now + grace : (DateTime?)null;
        endpoint.ReplaceSecret(secrets.Protect(secret), until);
        endpoint.UpdatedAt = now;
        var detail = until is null ? "old secret stopped signing at once" : $"old secret signs until {until:yyyy-MM-dd HH:mm} UTC";
        db.Record(caller, now, "webhook.secret_rotated", "webhook_endpoint", endpoint.Id.ToString(), $"{Describe(endpoint)}: secret v{endpoint.SecretVersion}, {detail}");
        await db.SaveChangesAsync(cancellationToken);
        return new RotatedSecret(secret, endpoint.SecretVersion, until);
    }

    /// <summary>Deletes the endpoint (history kept, pending deliveries failed); an application loses its finishedUrl.</summary>
    public async Task DeleteAsync(Caller caller, Guid id, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var endpoint = await FindAsync(db, caller, id, cancellationToken);
        if (endpoint.Scope == EndpointScope.Application && endpoint.ApplicationId is { } applicationId
            && await db.Applications.FirstOrDefaultAsync(a => a.Id == applicationId, cancellationToken) is { } application)
        {
            application.FinishedUrl = null;
            application.EndpointId = null;
            application.UpdatedAt = clock.GetUtcNow().UtcDateTime;
        }

        await webhooks.DeleteEndpointAsync(db, caller, endpoint, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private static List<string> ValidateEventTypes(IReadOnlyList<string> eventTypes)
    {
        var types = eventTypes.Select(t => t.Trim()).Where(t => t.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        if (types.FirstOrDefault(t => t.Length > 100 || !t.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-')) is { } bad)
        {
            throw new ValidationException("body", "eventTypes", $"'{bad}' is not an event type (lowercase letters, digits, '.', '_' and '-')", "value_error");
        }

        return types;
    }

    private static string Describe(WebhookEndpoint endpoint) => $"{endpoint.Scope.ToString().ToLowerInvariant()} {endpoint.Url}";

    private static async Task<WebhookEndpoint> FindAsync(AppDbContext db, Caller caller, Guid id, CancellationToken cancellationToken) =>
        await db.WebhookEndpoints.FirstOrDefaultAsync(e => e.Id == id && e.WorkspaceId == caller.WorkspaceId && e.DeletedAt == null, cancellationToken)
        ?? throw new NotFoundException("Webhook not found.");
}
