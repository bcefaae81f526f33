using DeliveryConsole.Components.Shared;
using MudBlazor;
using MudBlazor.Services;

namespace DeliveryConsole.Components;

public static class ConsoleUiExtensions
{
    public static IHostApplicationBuilder AddConsoleUi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddMudServices(options =>
        {
            options.SnackbarConfiguration.PositionClass = Defaults.Classes.Position.BottomRight;
            options.SnackbarConfiguration.PreventDuplicates = false;
            options.SnackbarConfiguration.VisibleStateDuration = 5000;
        });
        builder.Services.AddScoped<CurrentCaller>();
        return builder;
    }

    public static WebApplication UseConsoleErrorPages(this WebApplication app)
    {
        app.UseMiddleware<Infrastructure.SecurityHeaders>();
        if (!app.Environment.IsDevelopment())
        {
            app.UseExceptionHandler("/error", createScopeForErrors: true);
        }

        app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        app.UseMiddleware<Infrastructure.Api.ApiErrorFallback>();
        return app;
    }

    public static IEndpointRouteBuilder MapConsoleUi(this WebApplication app)
    {
        app.MapStaticAssets();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
