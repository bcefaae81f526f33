using DeliveryConsole.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Data;

public static class DatabaseExtensions
{
    public static IHostApplicationBuilder AddDatabase(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>()
            .BindConfiguration(DatabaseOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Pooled: every service operation takes a short-lived context, and an Identity-sized model
        // makes creating one from scratch measurable on the hot paths.
        builder.Services.AddSingleton<DatabaseWriter>();
        builder.Services.AddSingleton<Features.Webhooks.EndpointDirectory>();
        builder.Services.AddSingleton<Features.Webhooks.EndpointChangeInterceptor>();
        builder.Services.AddPooledDbContextFactory<AppDbContext>((services, options) =>
        {
            var database = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            options.UseSqlite(database.ConnectionString)
                .AddInterceptors(new SqlitePragmaInterceptor(database.BusyTimeoutMs), services.GetRequiredService<Features.Webhooks.EndpointChangeInterceptor>());
        });
        // Identity's stores take a scoped context; it comes from the same pool.
        builder.Services.AddScoped(services => services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContext());
        return builder;
    }

    /// <summary>
    /// The one start-up step that makes the database usable: creates its folder, applies pending
    /// migrations (each in its own transaction), and switches the file to WAL. Logs what it did.
    /// Fails with a <see cref="StartupException"/> that says what is wrong with the path.
    /// </summary>
    public static async Task MigrateDatabaseAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var options = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("DeliveryConsole.Database");
        var path = options.FullPath;

        if (Directory.Exists(path))
        {
            throw new StartupException($"The database path '{path}' is a folder; set Database:Path to a file.");
        }

        try
        {
            Directory.CreateDirectory(options.DataFolder);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new StartupException($"Cannot create the database folder '{options.DataFolder}': {exception.Message}");
        }

        var dbFactory = services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                logger.LogInformation("Applying {Count} migration(s) to {DatabasePath}: {Migrations}", pending.Count, path, string.Join(", ", pending));
                await db.Database.MigrateAsync(cancellationToken);
            }
            else
            {
                logger.LogInformation("Database {DatabasePath} is up to date", path);
            }

            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }
        catch (SqliteException exception)
        {
            throw new StartupException($"Cannot open the database '{path}': {exception.Message}");
        }
        finally
        {
            // Pooled connections keep the planner statistics they loaded; a migration may have
            // written new ones (Data/PlannerStatistics.cs), so later work starts on fresh connections.
            SqliteConnection.ClearAllPools();
        }
    }
}
