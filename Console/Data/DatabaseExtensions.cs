using System.Data.Common;
using DeliveryConsole.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.Options;
using Npgsql;

namespace DeliveryConsole.Data;

public static class DatabaseExtensions
{
    public static IHostApplicationBuilder AddDatabase(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<DatabaseOptions>()
            .BindConfiguration(DatabaseOptions.Section)
            .PostConfigure<IConfiguration>((options, configuration) => options.UseConnectionStringsSection(configuration))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Several nodes on PostgreSQL tell each other what changed; one node alone on SQLite has no one to tell.
        if (DatabaseOptionsOf(builder.Configuration).IsPostgres)
        {
            builder.Services.AddSingleton<PostgresSignals>();
            builder.Services.AddSingleton<IClusterSignals>(services => services.GetRequiredService<PostgresSignals>());
            builder.Services.AddHostedService(services => services.GetRequiredService<PostgresSignals>());
            builder.Services.AddSingleton<PostgresStatistics>();
            builder.Services.AddHostedService(services => services.GetRequiredService<PostgresStatistics>());
        }
        else
        {
            builder.Services.AddSingleton<IClusterSignals, LocalSignals>();
            builder.Services.AddSingleton<SqliteStatistics>();
            builder.Services.AddHostedService(services => services.GetRequiredService<SqliteStatistics>());
        }

        builder.Services.AddSingleton<DatabaseWriter>();
        builder.Services.AddSingleton<Features.Webhooks.EndpointDirectory>();
        builder.Services.AddSingleton<Features.Webhooks.EndpointChangeInterceptor>();
        // Pooled: every service operation takes a short-lived context, and an Identity-sized model
        // makes creating one from scratch measurable on the hot paths.
        builder.Services.AddPooledDbContextFactory<AppDbContext>((services, options) => options.UseConsoleDatabase(
            services.GetRequiredService<IOptions<DatabaseOptions>>().Value,
            services.GetRequiredService<Features.Webhooks.EndpointChangeInterceptor>()));
        // Identity's stores take a scoped context; it comes from the same pool.
        builder.Services.AddScoped(services => services.GetRequiredService<IDbContextFactory<AppDbContext>>().CreateDbContext());
        return builder;
    }

    /// <summary><c>ConnectionStrings:Postgres</c> stands for <c>Database:ConnectionString</c> when that is not set.</summary>
    public static DatabaseOptions UseConnectionStringsSection(this DatabaseOptions options, IConfiguration configuration)
    {
        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            options.ConnectionString = configuration.GetConnectionString("Postgres");
        }

        return options;
    }

    /// <summary>The database options as configured, for set-up code that runs before the container is built.</summary>
    public static DatabaseOptions DatabaseOptionsOf(IConfiguration configuration) =>
        (configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions()).UseConnectionStringsSection(configuration);

    /// <summary>The configured provider, with the console's connection settings and its per-provider migrations.</summary>
    public static DbContextOptionsBuilder UseConsoleDatabase(this DbContextOptionsBuilder options, DatabaseOptions database, params IInterceptor[] interceptors)
    {
        if (database.IsPostgres)
        {
            options.UseNpgsql(database.PostgresConnectionString);
        }
        else
        {
            options.UseSqlite(database.SqliteConnectionString).AddInterceptors(new SqlitePragmaInterceptor(database.BusyTimeoutMs));
        }

        return options.ReplaceService<IMigrationsAssembly, ProviderMigrationsAssembly>().AddInterceptors(interceptors);
    }

    /// <summary>True when the context talks to PostgreSQL.</summary>
    public static bool IsPostgres(this DbContext db) => db.Database.ProviderName == "Npgsql.EntityFrameworkCore.PostgreSQL";

    /// <summary>
    /// Held while a node prepares the database (migrations, the default workspace and its admin):
    /// on PostgreSQL a session advisory lock, so nodes that start together migrate once, one after
    /// the other; on SQLite nothing (one file, EF's own migration lock).
    /// </summary>
    public static async Task<IAsyncDisposable> LockForStartupAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var options = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        if (!options.IsPostgres)
        {
            return new NoLock();
        }

        var connection = new NpgsqlConnection(options.PostgresConnectionString);
        try
        {
            try
            {
                await connection.OpenAsync(cancellationToken);
            }
            catch (PostgresException exception) when (exception.SqlState == PostgresErrorCodes.InvalidCatalogName)
            {
                await CreateDatabaseAsync(options, cancellationToken);
                await connection.OpenAsync(cancellationToken);
            }

            await using var command = new NpgsqlCommand("SELECT pg_advisory_lock(7301955122)", connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch (Exception exception) when (exception is NpgsqlException or TimeoutException)
        {
            await connection.DisposeAsync();
            throw new StartupException($"Cannot open the database ({options.Description}): {exception.Message}");
        }
    }

    /// <summary>Creates the configured database (it did not exist), through the server's maintenance database; a node that loses the race finds it made.</summary>
    private static async Task CreateDatabaseAsync(DatabaseOptions options, CancellationToken cancellationToken)
    {
        var target = new NpgsqlConnectionStringBuilder(options.PostgresConnectionString);
        var maintenance = new NpgsqlConnectionStringBuilder(target.ConnectionString) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(maintenance.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{target.Database!.Replace("\"", "\"\"")}\" ENCODING 'UTF8' TEMPLATE template0", connection);
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (PostgresException exception) when (exception.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
        {
            // Another node made it first.
        }
    }

    private sealed class NoLock : IAsyncDisposable
    {
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>
    /// The one start-up step that makes the database usable: on SQLite creates its folder and
    /// switches the file to WAL; applies pending migrations (each in its own transaction). Logs
    /// what it did. Fails with a <see cref="StartupException"/> that says what is wrong.
    /// </summary>
    public static async Task MigrateDatabaseAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var options = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("DeliveryConsole.Database");
        var where = options.Description;

        if (!options.IsPostgres && Directory.Exists(options.FullPath))
        {
            throw new StartupException($"The database path '{options.FullPath}' is a folder; set Database:Path to a file.");
        }

        try
        {
            Directory.CreateDirectory(options.DataFolder);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new StartupException($"Cannot create the data folder '{options.DataFolder}': {exception.Message}");
        }

        var dbFactory = services.GetRequiredService<IDbContextFactory<AppDbContext>>();
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            // A new database gets its (empty) history table first: EF would otherwise read the missing
            // table, and log the failed query as an error, before creating it.
            await db.GetService<IHistoryRepository>().CreateIfNotExistsAsync(cancellationToken);
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                logger.LogInformation("Applying {Count} migration(s) to {Database}: {Migrations}", pending.Count, where, string.Join(", ", pending));
                await db.Database.MigrateAsync(cancellationToken);
            }
            else
            {
                logger.LogInformation("Database {Database} is up to date", where);
            }

            if (!options.IsPostgres)
            {
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            }
        }
        catch (DbException exception)
        {
            throw new StartupException($"Cannot open the database ({where}): {exception.Message}");
        }
        catch (InvalidOperationException exception) when (exception.InnerException is DbException inner)
        {
            throw new StartupException($"Cannot open the database ({where}): {inner.Message}");
        }
        finally
        {
            if (options.IsPostgres)
            {
                // Types a migration created (none today) are loaded again by fresh connections.
                NpgsqlConnection.ClearAllPools();
            }
            else
            {
                // Pooled connections keep the planner statistics they loaded; a migration may have
                // written new ones (Data/PlannerStatistics.cs), so later work starts on fresh connections.
                SqliteConnection.ClearAllPools();
            }
        }
    }
}
