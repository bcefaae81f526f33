using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Access;

/// <summary>
/// Keeps an open circuit's sign-in true. When its session ends (sign-out in another tab, a password
/// change, a disabled account: <see cref="UserSessions.Ended"/>, from this node or another) the
/// circuit signs out at once and the page asks to sign in again. Every minute it also re-checks
/// the session, the security stamp, and the role and membership in the circuit's workspace (the
/// page then opens with what the user may now do).
/// </summary>
internal sealed class RevalidatingAuthenticationStateProvider : RevalidatingServerAuthenticationStateProvider
{
    private static readonly AuthenticationState SignedOut = new(new ClaimsPrincipal(new ClaimsIdentity()));

    private readonly IServiceScopeFactory _scopeFactory;
    private readonly IOptions<IdentityOptions> _options;
    private readonly UserSessions _sessions;
    private readonly ILogger _logger;

    public RevalidatingAuthenticationStateProvider(ILoggerFactory loggerFactory, IServiceScopeFactory scopeFactory, IOptions<IdentityOptions> options, UserSessions sessions)
        : base(loggerFactory)
    {
        _scopeFactory = scopeFactory;
        _options = options;
        _sessions = sessions;
        _logger = loggerFactory.CreateLogger<RevalidatingAuthenticationStateProvider>();
        sessions.Ended += OnSessionsEnded;
    }

    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    private async void OnSessionsEnded(SessionsEnded ended)
    {
        try
        {
            var user = (await GetAuthenticationStateAsync()).User;
            if (user.Identity?.IsAuthenticated != true)
            {
                return;
            }

            var mine = ended switch
            {
                { SessionId: { } id } => id == user.FindFirstValue(UserSessions.Claim),
                { UserId: { } userId } => userId == user.FindFirstValue(ClaimTypes.NameIdentifier),
                // Signals may have been missed: ask the database.
                _ => !await _sessions.IsLiveAsync(user.FindFirstValue(UserSessions.Claim), user.FindFirstValue(ClaimTypes.NameIdentifier)),
            };
            if (mine)
            {
                SetAuthenticationState(Task.FromResult(SignedOut));
            }
        }
        catch (Exception exception)
        {
            _logger.LogWarning(exception, "Could not apply an ended session to an open circuit; the next revalidation will");
        }
    }

    protected override void Dispose(bool disposing)
    {
        _sessions.Ended -= OnSessionsEnded;
        base.Dispose(disposing);
    }

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        if (!await _sessions.IsLiveAsync(authenticationState.User.FindFirstValue(UserSessions.Claim), authenticationState.User.FindFirstValue(ClaimTypes.NameIdentifier), cancellationToken))
        {
            return false;
        }

        await using var scope = _scopeFactory.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ApplicationUser>>();
        var user = await users.GetUserAsync(authenticationState.User);
        if (user is null || user.IsDisabled)
        {
            return false;
        }

        var principalStamp = authenticationState.User.FindFirstValue(_options.Value.ClaimsIdentity.SecurityStampClaimType);
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
