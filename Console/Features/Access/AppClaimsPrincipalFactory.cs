using System.Security.Claims;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Access;

/// <summary>Puts the user's workspace and role into the cookie, as the same claims an API key produces.</summary>
public sealed class AppClaimsPrincipalFactory(UserManager<ApplicationUser> users, IOptions<IdentityOptions> options)
    : UserClaimsPrincipalFactory<ApplicationUser>(users, options)
{
    protected override async Task<ClaimsIdentity> GenerateClaimsAsync(ApplicationUser user)
    {
        var identity = await base.GenerateClaimsAsync(user);
        identity.AddClaim(new Claim(ClaimTypes.Role, user.Role.ToWire()));
        identity.AddClaim(new Claim(Caller.WorkspaceClaim, user.WorkspaceId.ToString("D")));
        identity.AddClaim(new Claim(Caller.ActorTypeClaim, "user"));
        identity.AddClaim(new Claim(Caller.DisplayNameClaim, user.DisplayName ?? user.Email ?? user.UserName ?? user.Id));
        return identity;
    }
}
