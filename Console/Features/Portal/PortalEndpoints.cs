using DeliveryConsole.Features.Access;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Api;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DeliveryConsole.Features.Portal;

/// <summary>/v1/portal-links: admin keys make, list and revoke customer portal links; the token and URL appear once, in the 201 answer.</summary>
public static class PortalEndpoints
{
    public static IEndpointRouteBuilder MapPortalLinkApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapApiGroup(ApiGroups.PortalLinks);
        group.MapPost("/", CreateLink).WithName("CreatePortalLink")
            .WithSummary("Creates a customer portal link for the key's workspace; its URL is in this answer only")
            .Accepts<CreateLinkRequest>("application/json").Produces<LinkResponse>(StatusCodes.Status201Created);
        group.MapGet("/", ListLinks).WithName("ListPortalLinks").WithSummary("Portal links of the workspace, newest first (never their tokens)")
            .Produces<DataList<LinkResponse>>();
        group.MapDelete("/{id}", RevokeLink).WithName("RevokePortalLink").WithSummary("Revokes a portal link at once");
        return routes;
    }

    /// <summary>The request body: every field optional.</summary>
    public sealed record CreateLinkRequest(string? Label, IReadOnlyList<Guid>? EndpointIds, bool? ReadOnly, bool? AllowSecretRotation, int? ExpiresInMinutes);

    public sealed record LinkResponse(
        Guid Id,
        string Prefix,
        string? Label,
        IReadOnlyList<Guid> EndpointIds,
        bool ReadOnly,
        bool AllowSecretRotation,
        string Status,
        DateTime ExpiresAt,
        DateTime? RevokedAt,
        string CreatedBy,
        DateTime CreatedAt,
        DateTime? LastUsedAt,
        string? Url = null,
        string? Token = null)
    {
        public static LinkResponse From(PortalLinkView view, DateTime now, string? url = null, string? token = null) =>
            new(view.Id, view.Prefix, view.Label, view.EndpointIds, view.ReadOnly, view.AllowSecretRotation, view.StatusAt(now),
                view.ExpiresAt, view.RevokedAt, view.CreatedBy, view.CreatedAt, view.LastUsedAt, url, token);
    }

    public static async Task<JsonHttpResult<LinkResponse>> CreateLink(HttpContext http, PortalService portal, TimeProvider clock)
    {
        var caller = http.Caller();
        caller.Require(Role.Admin);
        var body = await JsonBody.ReadAsync(http.Request, allowEmpty: true);
        var label = body.String("label", maxLength: 200);
        var readOnly = body.Bool("readOnly") ?? false;
        var rotation = body.Bool("allowSecretRotation") ?? false;
        var minutes = body.Int("expiresInMinutes", (int)PortalService.MinLifetime.TotalMinutes, (int)PortalService.MaxLifetime.TotalMinutes);
        var endpointTexts = body.StringList("endpointIds", maxItems: 100, maxLength: 64);
        var endpointIds = new List<Guid>();
        foreach (var text in endpointTexts ?? [])
        {
            if (Guid.TryParse(text, out var id))
            {
                endpointIds.Add(id);
            }
            else
            {
                body.Fail("endpointIds", $"'{text}' is not an endpoint id (a uuid)", "uuid_parsing");
                break;
            }
        }

        body.ThrowIfInvalid();
        var lifetime = minutes is { } m ? TimeSpan.FromMinutes(m) : PortalService.DefaultLifetime;
        var created = await portal.CreateAsync(caller, new PortalLinkRequest(label, endpointIds, readOnly, rotation, lifetime), http.RequestAborted);
        return TypedResults.Json(LinkResponse.From(created.Link, clock.GetUtcNow().UtcDateTime, created.Url, created.Token), ApiJson.CamelCase, statusCode: StatusCodes.Status201Created);
    }

    public static async Task<JsonHttpResult<DataList<LinkResponse>>> ListLinks(HttpContext http, PortalService portal, TimeProvider clock)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var list = await portal.ListAsync(http.Caller(), http.RequestAborted);
        return TypedResults.Json(new DataList<LinkResponse>(list.Select(l => LinkResponse.From(l, now)).ToList()), ApiJson.CamelCase);
    }

    public static async Task<NoContent> RevokeLink(HttpContext http, string id, PortalService portal)
    {
        var caller = http.Caller();
        caller.Require(Role.Admin);
        if (!Guid.TryParse(id, out var linkId))
        {
            throw new NotFoundException("Portal link not found.");
        }

        await portal.RevokeAsync(caller, linkId, http.RequestAborted);
        return TypedResults.NoContent();
    }
}
