using Bunit;
using Bunit.TestDoubles;
using DeliveryConsole.Components.Shared;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Workspaces;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor;
using MudBlazor.Services;

namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>
/// One base for component tests: MudBlazor with no transitions, loose JS interop, the app's real
/// services on a real migrated database (TestProvider), and a signed-in user of a chosen role.
/// </summary>
public abstract class BunitTestBase : BunitContext, IAsyncLifetime
{
    private readonly TempFolder _folder = new("dc-bunit");

    protected BunitTestBase()
    {
        // A page's first query builds EF Core's model and opens the pool (on PostgreSQL, a server
        // round trip or more): under a busy machine that exceeds bUnit's default second.
        DefaultWaitTimeout = TimeSpan.FromSeconds(10);
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices(options =>
        {
            options.SnackbarConfiguration.ShowTransitionDuration = 0;
            options.SnackbarConfiguration.HideTransitionDuration = 0;
            options.PopoverOptions.CheckForPopoverProvider = false;
        });
        Services.AddLogging();
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton(Options.Create(TestProvider.OptionsFor(_folder.File("bunit.db"))));
        Services.AddSingleton(Options.Create(new WorkspaceOptions()));
        Services.AddSingleton<DeliveryConsole.Features.Webhooks.EndpointDirectory>();
        Services.AddSingleton<DeliveryConsole.Features.Webhooks.EndpointChangeInterceptor>();
        Services.AddDbContextFactory<AppDbContext>((provider, options) =>
            options.UseConsoleDatabase(provider.GetRequiredService<IOptions<DatabaseOptions>>().Value,
                provider.GetRequiredService<DeliveryConsole.Features.Webhooks.EndpointChangeInterceptor>()));
        Services.AddIdentityCore<ApplicationUser>().AddEntityFrameworkStores<AppDbContext>();
        Services.AddSingleton<WorkspaceService>();
        Services.AddSingleton<WorkspaceAccess>();
        Services.AddSingleton<DeliveryConsole.Features.Deliveries.SavedViewService>();
        Services.AddSingleton<StaffViewAudit>();
        Services.AddSingleton<DeliveryConsole.Features.Search.FindService>();
        Services.AddSingleton<ApiKeyService>();
        Services.AddSingleton<UserService>();
        Services.AddScoped<CurrentCaller>();
        Auth = AddAuthorization();
    }

    protected BunitAuthorizationContext Auth { get; }

    protected Guid WorkspaceId { get; private set; }

    protected string UserId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        await Services.MigrateDatabaseAsync();
        WorkspaceId = (await Services.GetRequiredService<WorkspaceService>().EnsureAsync("Default")).Workspace.Id;
    }

    /// <summary>Signs in a real user row of <paramref name="role"/>.</summary>
    protected async Task SignInAsync(Role role, string email = "operator@example.com")
    {
        var created = await Services.GetRequiredService<UserService>()
            .CreateAsync(Caller.System(WorkspaceId), email, "Test User", role, "Test-Passw0rd-1");
        UserId = created.User.Id;
        Auth.SetAuthorized(email);
        Auth.SetClaims([.. Caller.ClaimsFor(WorkspaceId, role, "user", UserId, "Test User")]);
    }

    protected Caller AdminCaller => Caller.System(WorkspaceId);

    protected async Task<AppDbContext> DbAsync() =>
        await Services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();

    public new async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _folder.Dispose();
    }
}
