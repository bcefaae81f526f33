using System.Security.Cryptography;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Features.Workspaces;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Delivery;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Portal;

/// <summary>A portal link as its admin sees it (never the token, which is shown once).</summary>
public sealed record PortalLinkView(
    Guid Id,
    string Prefix,
    string? Label,
    IReadOnlyList<Guid> EndpointIds,
    bool ReadOnly,
    bool AllowSecretRotation,
    DateTime ExpiresAt,
    DateTime? RevokedAt,
    string CreatedBy,
    DateTime CreatedAt,
    DateTime? LastUsedAt)
{
    public string StatusAt(DateTime now) => RevokedAt is not null ? "revoked" : ExpiresAt <= now ? "expired" : "active";

    public static PortalLinkView From(PortalLink link) => new(link.Id, link.Prefix, link.Label, link.EndpointIds, !link.AllowResend, link.AllowRotateSecret,
        link.ExpiresAt, link.RevokedAt, link.CreatedBy, link.CreatedAt, link.LastUsedAt);
}

/// <summary>What a new link may do. Read-only links neither resend nor rotate.</summary>
public sealed record PortalLinkRequest(string? Label, IReadOnlyList<Guid>? EndpointIds, bool ReadOnly, bool AllowSecretRotation, TimeSpan Lifetime);

/// <summary>A new link: its token and URL appear here only.</summary>
public sealed record CreatedPortalLink(PortalLinkView Link, string Token, string Url);

/// <summary>An endpoint as the portal shows it.</summary>
public sealed record PortalEndpoint(Guid Id, string Url, string? Name, EndpointStatus Status, string? DisabledReason, IReadOnlyList<string> EventTypes);

/// <summary>An open portal: the link, its workspace's name, and the endpoints it shows.</summary>
public sealed record PortalSession(PortalLinkView Link, string WorkspaceName, IReadOnlyList<PortalEndpoint> Endpoints)
{
    public bool CanResend => !Link.ReadOnly;
    public bool CanRotateSecret => !Link.ReadOnly && Link.AllowSecretRotation;
}

/// <summary>Why a portal link opens nothing: unknown, expired or revoked. Its message is what the visitor reads.</summary>
public sealed class PortalUnavailableException(string reason, string message) : AppException(message)
{
    public string Reason { get; } = reason;
    public override int StatusCode => StatusCodes.Status404NotFound;
}

/// <summary>
/// Customer portal links (what Svix's app portal gives): an admin makes an expiring link for the
/// workspace, optionally limited to some endpoints and to read-only; whoever holds it sees those
/// deliveries, attempts and endpoints, and may resend or rotate an endpoint's secret when the link
/// allows it. Every visitor operation goes through here: the token is checked (unknown, expired and
/// revoked links get nothing), the endpoint scope is applied to every read and action, and actions
/// run as a <c>portal</c> caller, so the audit log says a portal link did them.
/// </summary>
public sealed class PortalService(
    IDbContextFactory<AppDbContext> dbFactory,
    DeliveryQueries deliveries,
    ResendService resends,
    EndpointService endpoints,
    WorkspaceService workspaces,
    IOptions<DeliveryOptions> deliveryOptions,
    TimeProvider clock)
{
    public const string TokenPrefix = "dcp_";
    public static readonly TimeSpan MinLifetime = TimeSpan.FromMinutes(5);
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(30);
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromDays(1);
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public async Task<CreatedPortalLink> CreateAsync(Caller caller, PortalLinkRequest request, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        var errors = new List<FieldError>();
        if (request.Lifetime < MinLifetime || request.Lifetime > MaxLifetime)
        {
            errors.Add(new FieldError(["body", "expiresInMinutes"], $"A link lives between {MinLifetime.TotalMinutes:0} minutes and {MaxLifetime.TotalDays:0} days", "range"));
        }

        if (request.Label is { Length: > 200 })
        {
            errors.Add(new FieldError(["body", "label"], "String should have at most 200 characters", "string_too_long"));
        }

        var endpointIds = (request.EndpointIds ?? []).Distinct().ToList();
        if (endpointIds.Count > 100)
        {
            errors.Add(new FieldError(["body", "endpointIds"], "At most 100 endpoints", "too_long"));
        }

        if (errors.Count > 0)
        {
            throw new ValidationException(errors);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (endpointIds.Count > 0)
        {
            var known = await db.WebhookEndpoints.AsNoTracking()
                .Where(e => e.WorkspaceId == caller.WorkspaceId && e.DeletedAt == null && endpointIds.Contains(e.Id))
                .Select(e => e.Id).ToListAsync(cancellationToken);
            if (endpointIds.Except(known).FirstOrDefault() is var unknown && unknown != Guid.Empty)
            {
                // Another workspace's endpoint is no more known here than one that never existed.
                throw new NotFoundException($"Endpoint {unknown} not found.");
            }
        }

        var token = TokenPrefix + RandomNumberGenerator.GetString(Alphabet, 40);
        var now = clock.GetUtcNow().UtcDateTime;
        var link = new PortalLink
        {
            Id = Guid.CreateVersion7(),
            WorkspaceId = caller.WorkspaceId,
            TokenHash = Hash(token),
            Prefix = token[..12],
            Label = string.IsNullOrWhiteSpace(request.Label) ? null : request.Label.Trim(),
            EndpointIds = endpointIds,
            AllowResend = !request.ReadOnly,
            AllowRotateSecret = !request.ReadOnly && request.AllowSecretRotation,
            ExpiresAt = now + request.Lifetime,
            CreatedBy = caller.ActorName,
            CreatedAt = now,
        };
        db.PortalLinks.Add(link);
        db.Record(caller, now, "portal_link.created", "portal_link", link.Id.ToString(),
            $"{link.Prefix}… {(link.Label is null ? "" : $"\"{link.Label}\" ")}{(endpointIds.Count == 0 ? "all endpoints" : $"{endpointIds.Count} endpoint(s)")}, " +
            $"{(request.ReadOnly ? "read-only" : link.AllowRotateSecret ? "resend and rotate secret" : "resend")}, until {link.ExpiresAt:yyyy-MM-dd HH:mm} UTC");
        await db.SaveChangesAsync(cancellationToken);
        // Delivery:PublicBaseUrl, never the Host a request named.
        var root = deliveryOptions.Value.PublicBaseUrl.TrimEnd('/');
        return new CreatedPortalLink(PortalLinkView.From(link), token, $"{root}/portal/{token}");
    }

    public async Task<IReadOnlyList<PortalLinkView>> ListAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var links = await db.PortalLinks.AsNoTracking().Where(l => l.WorkspaceId == caller.WorkspaceId)
            .OrderByDescending(l => l.CreatedAt).Take(500).ToListAsync(cancellationToken);
        return links.Select(PortalLinkView.From).ToList();
    }

    /// <summary>Revokes a link at once: its next request (and any open portal page's next action) gets nothing.</summary>
    public async Task<PortalLinkView> RevokeAsync(Caller caller, Guid id, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var link = await db.PortalLinks.FirstOrDefaultAsync(l => l.Id == id && l.WorkspaceId == caller.WorkspaceId, cancellationToken)
            ?? throw new NotFoundException("Portal link not found.");
        if (link.RevokedAt is null)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            link.RevokedAt = now;
            db.Record(caller, now, "portal_link.revoked", "portal_link", link.Id.ToString(), $"{link.Prefix}…{(link.Label is null ? "" : $" \"{link.Label}\"")}");
            await db.SaveChangesAsync(cancellationToken);
        }

        return PortalLinkView.From(link);
    }

    // The visitor's side: everything below starts from the token.

    /// <summary>Opens the portal of a token; throws <see cref="PortalUnavailableException"/> for an unknown, expired or revoked one.</summary>
    public async Task<PortalSession> OpenAsync(string? token, CancellationToken cancellationToken = default)
    {
        var (link, caller) = await LinkAsync(token, cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var workspace = await workspaces.FindAsync(link.WorkspaceId, cancellationToken);
        var list = (await endpoints.NamedAsync(caller, cancellationToken))
            .Where(n => InScope(link, n.Endpoint.Id))
            .OrderBy(n => n.Endpoint.Scope).ThenBy(n => n.Endpoint.Url, StringComparer.Ordinal)
            .Select(n => new PortalEndpoint(n.Endpoint.Id, n.Endpoint.Url, n.OwnerName, n.Endpoint.Status, n.Endpoint.DisabledReason, n.Endpoint.EventTypes))
            .ToList();
        if (link.LastUsedAt is null || clock.GetUtcNow().UtcDateTime - link.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            await db.PortalLinks.Where(l => l.Id == link.Id).ExecuteUpdateAsync(s => s.SetProperty(l => l.LastUsedAt, clock.GetUtcNow().UtcDateTime), cancellationToken);
        }

        return new PortalSession(PortalLinkView.From(link), workspace?.Name ?? "", list);
    }

    /// <summary>A page of the link's deliveries; an endpoint outside the link is refused as unknown.</summary>
    public async Task<DeliveryPage> DeliveriesAsync(string? token, DeliveryFilter filter, int offset, int limit, CancellationToken cancellationToken = default)
    {
        var (link, caller) = await LinkAsync(token, cancellationToken);
        var scoped = Scoped(link, filter with { ApplicationId = null, CampaignId = null, Scope = null });
        return await deliveries.PageAsync(caller, scoped, DeliverySort.Newest, offset, limit, cancellationToken, countUpTo: 10_000);
    }

    /// <summary>One delivery with its attempts; 404 when it is not to one of the link's endpoints.</summary>
    public async Task<DeliveryDetail> DeliveryAsync(string? token, Guid deliveryId, CancellationToken cancellationToken = default)
    {
        var (link, caller) = await LinkAsync(token, cancellationToken);
        var detail = await deliveries.GetAsync(caller, deliveryId, cancellationToken: cancellationToken);
        if (!InScope(link, detail.Delivery.EndpointId))
        {
            throw new NotFoundException("Delivery not found.");
        }

        return detail;
    }

    public async Task ResendAsync(string? token, Guid deliveryId, CancellationToken cancellationToken = default)
    {
        var (link, caller) = await LinkAsync(token, cancellationToken);
        if (!link.AllowResend)
        {
            throw new ForbiddenException("This portal link is read-only: it cannot resend.");
        }

        var detail = await deliveries.GetAsync(caller, deliveryId, cancellationToken: cancellationToken);
        if (!InScope(link, detail.Delivery.EndpointId))
        {
            throw new NotFoundException("Delivery not found.");
        }

        await resends.ResendAsync(caller with { Role = Role.Operator }, null, deliveryId, cancellationToken);
    }

    /// <summary>A new signing secret for one of the link's endpoints, returned this once.</summary>
    public async Task<RotatedSecret> RotateSecretAsync(string? token, Guid endpointId, TimeSpan grace, CancellationToken cancellationToken = default)
    {
        var (link, caller) = await LinkAsync(token, cancellationToken);
        if (!link.AllowRotateSecret)
        {
            throw new ForbiddenException("This portal link cannot rotate signing secrets.");
        }

        if (!InScope(link, endpointId))
        {
            throw new NotFoundException("Endpoint not found.");
        }

        // The endpoint service checks the endpoint is of the link's workspace and audits as the portal.
        return await endpoints.RotateSecretAsync(caller with { Role = Role.Admin }, endpointId, grace, cancellationToken);
    }

    /// <summary>Stored instead of the token, hashed as API keys are (long random tokens need no slow hash).</summary>
    public static string Hash(string token) => ApiKeyGenerator.Hash(token);

    private static bool InScope(PortalLink link, Guid endpointId) => link.EndpointIds.Count == 0 || link.EndpointIds.Contains(endpointId);

    private static DeliveryFilter Scoped(PortalLink link, DeliveryFilter filter)
    {
        if (link.EndpointIds.Count == 0)
        {
            return filter;
        }

        if (filter.EndpointId is { } chosen)
        {
            return InScope(link, chosen) ? filter : throw new NotFoundException("Endpoint not found.");
        }

        return link.EndpointIds.Count == 1
            ? filter with { EndpointId = link.EndpointIds[0] }
            : filter with { EndpointIn = string.Join(',', link.EndpointIds.Order()) };
    }

    /// <summary>The live link of a token and the caller it acts as (a viewer of its workspace, actor type <c>portal</c>).</summary>
    private async Task<(PortalLink Link, Caller Caller)> LinkAsync(string? token, CancellationToken cancellationToken)
    {
        if (token is not { Length: > 20 and < 100 } || !token.StartsWith(TokenPrefix, StringComparison.Ordinal))
        {
            throw new PortalUnavailableException("unknown", "This portal link is not valid. Ask for a new one.");
        }

        var hash = Hash(token);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var link = await db.PortalLinks.AsNoTracking().FirstOrDefaultAsync(l => l.TokenHash == hash, cancellationToken)
            ?? throw new PortalUnavailableException("unknown", "This portal link is not valid. Ask for a new one.");
        if (link.RevokedAt is not null)
        {
            throw new PortalUnavailableException("revoked", "This portal link was revoked. Ask for a new one.");
        }

        if (link.ExpiresAt <= clock.GetUtcNow().UtcDateTime)
        {
            throw new PortalUnavailableException("expired", $"This portal link expired on {link.ExpiresAt:yyyy-MM-dd HH:mm} UTC. Ask for a new one.");
        }

        var name = $"portal link {link.Prefix}…{(link.Label is null ? "" : $" ({link.Label})")}";
        return (link, new Caller(link.WorkspaceId, Role.Viewer, "portal", link.Id.ToString(), name));
    }
}
