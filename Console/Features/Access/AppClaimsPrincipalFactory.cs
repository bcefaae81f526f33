using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Access;

/// <summary>
/// The console cookie says who the user is, nothing about workspaces: the workspace and the role
/// there are resolved on every request from the URL and the user's memberships
/// (<see cref="Workspaces.WorkspaceClaimsTransformation"/>), so a change applies without signing in again.
/// </summary>
public sealed class AppClaimsPrincipalFactory(UserManager<ApplicationUser> users, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<ApplicationUser>(users, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(ApplicationUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        identity.AddClaim(new Claim(Caller.ActorTypeClaim, "user"));
        identity.AddClaim(new Claim(Caller.DisplayNameClaim, user.DisplayName ?? user.Email ?? user.UserName ?? user.Id));
        return identity;
    }
}
