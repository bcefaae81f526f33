namespace DeliveryConsole.Features.Dashboard;

public static class DashboardExtensions
{
    public static IHostApplicationBuilder AddDashboard(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<DashboardService>();
        return builder;
    }
}
