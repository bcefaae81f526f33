using Bunit;
using Bunit.TestDoubles;
using DeliveryConsole.Features.Calls;
using DeliveryConsole.Features.Calls.Telephony;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Features.Deliveries.Live;
using DeliveryConsole.Infrastructure.Delivery;
using Hangfire;
using Hangfire.InMemory;
using Microsoft.AspNetCore.DataProtection;
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
        Services.AddSingleton<DeliveryConsole.Infrastructure.IClusterSignals, DeliveryConsole.Infrastructure.LocalSignals>();
        Services.AddSingleton<UserSessions>();
        Services.AddSingleton<UserService>();
        Services.AddSingleton<FirstRunPassword>();
        Services.AddScoped<CurrentCaller>();
        Auth = AddAuthorization();
    }

    protected BunitAuthorizationContext Auth { get; }

    /// <summary>What pages that read or resend deliveries need: the engine's writer, wake-up and notifier, secrets, the network guard, an in-memory Hangfire client.</summary>
    protected void AddDeliveryServices()
    {
        Services.AddDataProtection().UseEphemeralDataProtectionProvider();
        Services.AddOptions<DeliveryOptions>();
        Services.AddSingleton<SsrfGuard>();
        Services.AddSingleton<ConsoleAddress>();
        Services.AddSingleton<DeliveryConsole.Features.Webhooks.EndpointSecrets>();
        Services.AddSingleton<RecordingLinkSigner>();
        Services.AddSingleton<IPayloadEnricher, RecordingUrlEnricher>();
        Services.AddSingleton<DeliveryNotifier>();
        Services.AddSingleton<IBackgroundJobClient>(new BackgroundJobClient(new InMemoryStorage()));
        Services.AddSingleton<IDeliveryWakeup, InProcessWakeup>();
        Services.AddSingleton<DatabaseWriter>();
    }

    /// <summary>Endpoints of every scope (the webhooks, applications and endpoint services).</summary>
    protected void AddEndpointServices()
    {
        Services.AddSingleton<DeliveryConsole.Features.Webhooks.WebhookService>();
        Services.AddSingleton<DeliveryConsole.Features.Webhooks.ApplicationService>();
        Services.AddSingleton<DeliveryConsole.Features.Webhooks.EndpointService>();
    }

    /// <summary>Calls and callbacks, with no telephony provider behind them.</summary>
    protected void AddCallServices()
    {
        Services.AddSingleton<EventService>();
        Services.AddSingleton<CallLifecycle>();
        Services.AddSingleton<ITelephonyProvider, NoTelephony>();
        Services.AddSingleton<CallService>();
        Services.AddSingleton<DeliveryConsole.Features.Callbacks.CallbackService>();
    }

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
