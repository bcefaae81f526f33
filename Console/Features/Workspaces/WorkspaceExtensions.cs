using Microsoft.AspNetCore.Authentication;

namespace DeliveryConsole.Features.Workspaces;

public static class WorkspaceExtensions
{
    public static IHostApplicationBuilder AddWorkspaces(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<WorkspaceOptions>().BindConfiguration(WorkspaceOptions.Section);
        builder.Services.AddSingleton<WorkspaceService>();
        builder.Services.AddSingleton<WorkspaceAccess>();
        builder.Services.AddSingleton<StaffViewAudit>();
        builder.Services.AddSingleton<WorkspaceOverviewService>();
        builder.Services.AddSingleton<Search.FindService>();
        builder.Services.AddHttpContextAccessor();
        builder.Services.AddScoped<IClaimsTransformation, WorkspaceClaimsTransformation>();
        return builder;
    }
}
