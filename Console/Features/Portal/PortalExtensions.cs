namespace DeliveryConsole.Features.Portal;

public static class PortalExtensions
{
    public static IHostApplicationBuilder AddPortal(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<PortalService>();
        return builder;
    }

    public static IEndpointRouteBuilder MapPortal(this IEndpointRouteBuilder routes) => routes.MapPortalLinkApi();
}
