using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Workspaces;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Infrastructure;

public static class StartupPreparation
{
    /// <summary>
    /// Everything that must hold before the console serves or a command runs: the database
    /// migrated, the default workspace and its first admin. Safe to run on every start.
    /// </summary>
    public static async Task PrepareAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        // Several nodes starting together on one PostgreSQL database take turns here.
        await using var startupLock = await services.LockForStartupAsync(cancellationToken);
        await services.MigrateDatabaseAsync(cancellationToken);

        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("DeliveryConsole.Startup");
        var workspaces = services.GetRequiredService<WorkspaceService>();
        await workspaces.EnsureSlugsAsync(cancellationToken);
        var (workspace, created) = await workspaces.EnsureAsync(null, cancellationToken);
        if (created)
        {
            logger.LogInformation("Created the default workspace {WorkspaceName} ({WorkspaceId})", workspace.Name, workspace.Id);
        }

        var bootstrap = services.GetRequiredService<IOptions<BootstrapOptions>>().Value;
        var (adminCreated, generatedPassword) = await services.GetRequiredService<UserService>()
            .EnsureAdminAsync(workspace.Id, bootstrap.AdminEmail, bootstrap.AdminPassword, cancellationToken);
        if (adminCreated && generatedPassword is not null)
        {
            // Written once, on the run that creates the admin; it is stored only as a hash.
            logger.LogWarning(
                "Created the console admin {AdminEmail} with the generated password {AdminPassword}. It is shown only this once; set Bootstrap:AdminPassword to choose one.",
                bootstrap.AdminEmail,
                generatedPassword);
        }
        else if (adminCreated)
        {
            logger.LogInformation("Created the console admin {AdminEmail} with the configured password", bootstrap.AdminEmail);
        }
    }
}
