namespace DeliveryConsole.Features.Stats;

public static class StatsExtensions
{
    public static IHostApplicationBuilder AddStats(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<StatsService>();
        builder.Services.AddTransient<RollupRebuildJob>();
        builder.Services.AddHostedService<QueryWarmup>();
        return builder;
    }

    public static IEndpointRouteBuilder MapStats(this IEndpointRouteBuilder routes) => routes.MapStatsApi();
}
