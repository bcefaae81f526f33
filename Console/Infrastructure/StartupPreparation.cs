using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Workspaces;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Infrastructure;

/// <summary>What start-up did that its operator must hear of: the first admin's generated password (and the file that keeps it).</summary>
public sealed record StartupReport(string AdminEmail, string? GeneratedPassword, string? PasswordFile);

public static class StartupPreparation
{
    /// <summary>
    /// Everything that must hold before the console serves or a command runs: the database
    /// migrated, the default workspace and its first admin. Safe to run on every start.
    /// </summary>
    public static async Task<StartupReport> PrepareAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
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
            // Stored only as a hash; in clear once in the start-up banner and in the owner-only file,
            // never in a log (the log line names the file, not the password).
            var file = services.GetRequiredService<FirstRunPassword>();
            file.Write(bootstrap.AdminEmail, generatedPassword);
            logger.LogWarning("Created the console admin {AdminEmail} with a generated password, kept in {PasswordFile} until it is changed", bootstrap.AdminEmail, file.Path);
            return new StartupReport(bootstrap.AdminEmail, generatedPassword, file.Path);
        }

        if (adminCreated)
        {
            logger.LogInformation("Created the console admin {AdminEmail} with the configured password", bootstrap.AdminEmail);
        }

        return new StartupReport(bootstrap.AdminEmail, null, null);
    }
}
