using System.Security.Claims;
using DeliveryConsole.Infrastructure;

namespace DeliveryConsole.Features.Access;

/// <summary>
/// Who is asking: an API key or a console user, in one workspace, with one role.
/// Every service method takes one and checks it; the UI hiding a button is only a courtesy.
/// </summary>
public sealed record Caller(Guid WorkspaceId, Role Role, string ActorType, string ActorId, string ActorName)
{
    public const string WorkspaceClaim = "dc:workspace";
    public const string ActorTypeClaim = "dc:actor_type";
    public const string DisplayNameClaim = "dc:display_name";

    public bool Can(Role required) => Role >= required;

    /// <summary>Throws <see cref="ForbiddenException"/> unless the caller has at least <paramref name="required"/>.</summary>
    public void Require(Role required)
    {
        if (!Can(required))
        {
            throw new ForbiddenException($"This action needs the {required.ToWire()} role; this {(ActorType == "key" ? "API key" : "user")} is {Role.ToWire()}.");
        }
    }

    /// <summary>A system caller for start-up work and the CLI; it acts as admin of one workspace.</summary>
    public static Caller System(Guid workspaceId, string name = "system") => new(workspaceId, Role.Admin, "system", name, name);

    public static Caller? FromPrincipal(ClaimsPrincipal? principal)
    {
        if (principal?.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        var workspace = principal.FindFirstValue(WorkspaceClaim);
        var role = principal.FindFirstValue(ClaimTypes.Role);
        var id = principal.FindFirstValue(ClaimTypes.NameIdentifier);
        if (!Guid.TryParse(workspace, out var workspaceId) || !Roles.TryParse(role, out var parsedRole) || id is null)
        {
            return null;
        }

        var name = principal.FindFirstValue(DisplayNameClaim) ?? principal.Identity.Name ?? id;
        return new Caller(workspaceId, parsedRole, principal.FindFirstValue(ActorTypeClaim) ?? "user", id, name);
    }

    public static IEnumerable<Claim> ClaimsFor(Guid workspaceId, Role role, string actorType, string actorId, string displayName) =>
    [
        new Claim(ClaimTypes.NameIdentifier, actorId),
        new Claim(ClaimTypes.Name, displayName),
        new Claim(DisplayNameClaim, displayName),
        new Claim(ClaimTypes.Role, role.ToWire()),
        new Claim(WorkspaceClaim, workspaceId.ToString("D")),
        new Claim(ActorTypeClaim, actorType),
    ];
}
