using DeliveryConsole.Features.Access;
using DeliveryConsole.Infrastructure;
using Microsoft.AspNetCore.Components.Authorization;

namespace DeliveryConsole.Components.Shared;

/// <summary>The signed-in console user as a <see cref="Caller"/>, for pages to hand to services.</summary>
public sealed class CurrentCaller(AuthenticationStateProvider authentication)
{
    public async Task<Caller> GetAsync()
    {
        var state = await authentication.GetAuthenticationStateAsync();
        return Caller.FromPrincipal(state.User) ?? throw new UnauthorizedException("You are signed out. Sign in again.");
    }
}
