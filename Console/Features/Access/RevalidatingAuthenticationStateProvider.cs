using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Access;

/// <summary>
/// Re-checks a connected console user every minute: a disabled user or a reset password (which
/// rotate the security stamp) ends the session on the open circuit too, and so does a changed role
/// or a lost membership in the circuit's workspace (the page then asks to sign in again, and opens
/// with what the user may now do).
/// </summary>
internal sealed class RevalidatingAuthenticationStateProvider(
    ILoggerFactory loggerFactory,
    IServiceScopeFactory scopeFactory,
    IOptions<IdentityOptions> options)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        await using var scope = scopeFactory.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var user = await users.GetUserAsync(authenticationState.User);
        if (user is null || user.IsDisabled)
        {
            return false;
        }

        var principalStamp = authenticationState.User.FindFirstValue(options.Value.ClaimsIdentity.SecurityStampClaimType);
        if (principalStamp != await users.GetSecurityStampAsync(user))
        {
            return false;
        }

        if (authenticationState.User.FindFirstValue(Caller.WorkspaceClaim) is not { } workspace)
        {
            return true;
        }

        var grant = await scope.ServiceProvider.GetRequiredService<Workspaces.WorkspaceAccess>().GrantAsync(user.Id, workspace, cancellationToken);
        return grant is not null && grant.Role.ToWire() == authenticationState.User.FindFirstValue(ClaimTypes.Role);
    }
}
