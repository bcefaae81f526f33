namespace DeliveryConsole.Features.Webhooks;

public static class WebhooksExtensions
{
    public static IHostApplicationBuilder AddWebhooks(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<EndpointSecrets>();
        builder.Services.AddSingleton<WebhookService>();
        builder.Services.AddSingleton<ApplicationService>();
        builder.Services.AddSingleton<CampaignService>();
        builder.Services.AddSingleton<EndpointService>();
        builder.Services.AddSingleton<EndpointScorecardService>();
        return builder;
    }

    public static IEndpointRouteBuilder MapWebhooks(this IEndpointRouteBuilder routes)
    {
        routes.MapMasterWebhookApi();
        routes.MapApplicationApi();
        routes.MapCampaignApi();
        return routes;
    }
}
