using System.Security.Claims;
using DeliveryConsole.Features.Access;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Components.Endpoints;
using Microsoft.AspNetCore.Diagnostics;

namespace DeliveryConsole.Features.Workspaces;

/// <summary>
/// Console URLs name their workspace: <c>/w/{slug}/deliveries?…</c>. The prefix becomes the
/// request's path base, so the pages, their relative links, the Blazor circuit (which connects to
/// <c>/w/{slug}/_blazor</c>) and static files all work unchanged beneath it, and the circuit stays in
/// that workspace. A URL without it (every URL from before, bookmarks and tests included) opens the
/// user's current workspace and is redirected to its <c>/w/</c> form.
/// </summary>
public static class WorkspaceRouting
{
    public const string SlugItem = "dc:workspace-ref";
    public const string SlugClaim = "dc:workspace_slug";
    public const string NameClaim = "dc:workspace_name";
    public const string ViaStaffClaim = "dc:via_staff";
    public const string StaffClaim = "dc:staff";

    /// <summary>
    /// The console's public files (scripts, styles, fonts, images): the same for every workspace and
    /// every visitor, so the 404 page of a forbidden workspace still has its styles.
    /// </summary>
    private static bool IsStaticAsset(PathString path) =>
        path.StartsWithSegments("/_framework") || path.StartsWithSegments("/_content") || path.StartsWithSegments("/assets");

    /// <summary>The console path of a page in a workspace: <c>/w/acme/deliveries</c> for ("acme", "deliveries").</summary>
    public static string PathIn(string slug, string relative) => $"/w/{Uri.EscapeDataString(slug)}/{relative.TrimStart('/')}";

    /// <summary>Before routing: moves <c>/w/{slug}</c> from the path into the path base.</summary>
    public static IApplicationBuilder UseWorkspacePaths(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var path = http.Request.Path;
        if (path.StartsWithSegments("/w", StringComparison.OrdinalIgnoreCase, out var rest) && rest.HasValue && rest.Value!.Length > 1)
        {
            var end = rest.Value.IndexOf('/', 1);
            var slug = end < 0 ? rest.Value[1..] : rest.Value[1..end];
            if (end < 0)
            {
                // /w/acme → /w/acme/: the base of relative links ends with a slash.
                http.Response.Redirect($"{http.Request.PathBase}/w/{slug}/{http.Request.QueryString}");
                return;
            }

            http.Items[SlugItem] = Uri.UnescapeDataString(slug);
            http.Request.PathBase = http.Request.PathBase.Add($"/w/{slug}");
            http.Request.Path = rest.Value[end..];
        }

        await next(http);
    });

    /// <summary>
    /// After authentication: a console user asking for a workspace they may not see (or one that does
    /// not exist: the same answer) gets a 404; a page asked for without a workspace is redirected to
    /// the user's current one, so the address bar always names the customer being looked at.
    /// </summary>
    public static IApplicationBuilder UseWorkspaceGate(this IApplicationBuilder app) => app.Use(async (http, next) =>
    {
        var user = http.User;
        var isConsoleUser = user.Identity?.IsAuthenticated == true && user.FindFirstValue(Caller.ActorTypeClaim) == "user";
        var reExecuted = http.Features.Get<IStatusCodeReExecuteFeature>() is not null;
        if (http.Items.ContainsKey(SlugItem) && !reExecuted && !IsStaticAsset(http.Request.Path))
        {
            var apiKey = user.Identity?.IsAuthenticated == true && user.FindFirstValue(Caller.ActorTypeClaim) == "key";
            if (apiKey || (isConsoleUser && user.FindFirstValue(Caller.WorkspaceClaim) is null))
            {
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
        }
        else if (isConsoleUser && !reExecuted && HttpMethods.IsGet(http.Request.Method)
                 && user.FindFirstValue(SlugClaim) is { } slug
                 && http.GetEndpoint()?.Metadata.GetMetadata<ComponentTypeMetadata>() is not null
                 && !http.Request.Path.StartsWithSegments("/account") && !http.Request.Path.StartsWithSegments("/portal"))
        {
            http.Response.Redirect($"{http.Request.PathBase}{PathIn(slug, http.Request.Path.Value ?? "/")}{http.Request.QueryString}");
            return;
        }

        await next(http);
    });
}

/// <summary>
/// Gives a console user's principal, on every request, the workspace of the URL (or their current
/// one) and their role there, as the same claims an API key carries; <see cref="Caller"/> reads
/// them. Without access, no workspace claim is added: nothing of a workspace can be read.
/// </summary>
public sealed class WorkspaceClaimsTransformation(WorkspaceAccess access, IHttpContextAccessor httpContextAccessor) : IClaimsTransformation
{
    private const string ResolvedClaim = "dc:workspace_resolved";

    public async Task<ClaimsPrincipal> TransformAsync(ClaimsPrincipal principal)
    {
        if (principal.Identity is not ClaimsIdentity { IsAuthenticated: true } identity
            || principal.FindFirstValue(Caller.ActorTypeClaim) != "user"
            || principal.HasClaim(c => c.Type == ResolvedClaim)
            || principal.FindFirstValue(ClaimTypes.NameIdentifier) is not { } userId)
        {
            return principal;
        }

        var http = httpContextAccessor.HttpContext;
        var workspaceRef = http?.Items[WorkspaceRouting.SlugItem] as string;
        var cancellation = http?.RequestAborted ?? CancellationToken.None;
        var grant = await access.GrantAsync(userId, workspaceRef, cancellation);
        var staff = await access.StaffRoleAsync(userId, cancellation);

        // Claims from an older cookie (which carried a workspace and a role) are not trusted.
        var stale = new HashSet<string>([ClaimTypes.Role, Caller.WorkspaceClaim, WorkspaceRouting.SlugClaim, WorkspaceRouting.NameClaim, WorkspaceRouting.ViaStaffClaim, WorkspaceRouting.StaffClaim]);
        var resolved = new ClaimsIdentity(identity.Claims.Where(c => !stale.Contains(c.Type)), identity.AuthenticationType, identity.NameClaimType, identity.RoleClaimType);
        resolved.AddClaim(new Claim(ResolvedClaim, "1"));
        if (staff is { } staffRole)
        {
            resolved.AddClaim(new Claim(WorkspaceRouting.StaffClaim, staffRole.ToWire()));
        }

        if (grant is not null)
        {
            resolved.AddClaim(new Claim(ClaimTypes.Role, grant.Role.ToWire()));
            resolved.AddClaim(new Claim(Caller.WorkspaceClaim, grant.Workspace.Id.ToString("D")));
            resolved.AddClaim(new Claim(WorkspaceRouting.SlugClaim, grant.Workspace.Slug));
            resolved.AddClaim(new Claim(WorkspaceRouting.NameClaim, grant.Workspace.Name));
            if (grant.ViaStaff)
            {
                resolved.AddClaim(new Claim(WorkspaceRouting.ViaStaffClaim, "1"));
            }
        }

        return new ClaimsPrincipal(resolved);
    }
}
