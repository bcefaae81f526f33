namespace DeliveryConsole.Features.Workspaces;

public static class WorkspaceExtensions
{
    public static IHostApplicationBuilder AddWorkspaces(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WorkspaceOptions>().BindConfiguration(WorkspaceOptions.Section);
        builder.Services.AddSingleton<WorkspaceService>();
        return builder;
    }
}
