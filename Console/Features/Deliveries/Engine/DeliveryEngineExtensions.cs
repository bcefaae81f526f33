using DeliveryConsole.Infrastructure.Delivery;

namespace DeliveryConsole.Features.Deliveries.Engine;

public static class DeliveryEngineExtensions
{
    public static IHostApplicationBuilder AddDeliveryEngine(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DeliveryOptions>()
            .BindConfiguration(DeliveryOptions.Section)
            .PostConfigure<IConfiguration>(JoinNetworkList)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddSingleton<ConsoleAddress>();
        builder.Services.AddSingleton<SsrfGuard>();
        builder.Services.AddHttpClient(WebhookSender.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(services => new SocketsHttpHandler
            {
                ConnectCallback = services.GetRequiredService<SsrfGuard>().ConnectAsync,
                AllowAutoRedirect = false,
                UseCookies = false,
                UseProxy = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(2),
                MaxConnectionsPerServer = 64,
            })
            // Every attempt is recorded by the ledger with its request and answer; the factory's own
            // per-request log scopes and messages were a cost on every delivery and said less.
            .RemoveAllLoggers();
        builder.Services.AddSingleton<WebhookSender>();
        builder.Services.AddSingleton<DeliveryProcessor>();
        builder.Services.AddSingleton<DeliveryLedger>();
        builder.Services.AddSingleton<NodeIdentity>();
        builder.Services.AddSingleton<IDeliveryQueue, DeliveryQueue>();
        builder.Services.AddSingleton<IDeliveryWakeup, InProcessWakeup>();
        builder.Services.AddSingleton<DeliveryDispatcher>();
        // Given to the Hangfire server (it takes every registered IBackgroundProcess).
        builder.Services.AddSingleton<Hangfire.Server.IBackgroundProcess, DeliveryDispatcherProcess>();
        builder.Services.AddSingleton<EventService>();
        builder.Services.AddSingleton<RecordingLinkSigner>();
        builder.Services.AddSingleton<IPayloadEnricher, RecordingUrlEnricher>();
        builder.Services.AddSingleton<ResendService>();
        builder.Services.AddSingleton<ReplayService>();
        builder.Services.AddTransient<ReplayJob>();
        builder.Services.AddHostedService<ReplayResumer>();
        builder.Services.AddTransient<RetentionJob>();
        builder.Services.AddHostedService<RetentionSchedule>();
        builder.Services.AddSingleton<WebhookTestService>();
        return builder;
    }

    /// <summary>Delivery:AllowedPrivateNetworks given as a list (…:0, …:1) joins the comma-separated value.</summary>
    private static void JoinNetworkList(DeliveryOptions options, IConfiguration configuration)
    {
        var section = configuration.GetSection(DeliveryOptions.Section).GetSection(nameof(DeliveryOptions.AllowedPrivateNetworks));
        var items = section.GetChildren().Select(c => c.Value).Where(v => !string.IsNullOrWhiteSpace(v)).ToList();
        if (items.Count > 0)
        {
            options.AllowedPrivateNetworks = string.Join(",", new[] { options.AllowedPrivateNetworks }.Concat(items).Where(v => !string.IsNullOrWhiteSpace(v)));
        }
    }

    public static IEndpointRouteBuilder MapDeliveryEngine(this IEndpointRouteBuilder routes)
    {
        routes.MapEventApi();
        routes.MapResendApi();
        routes.MapWebhookTestApi();
        return routes;
    }
}
