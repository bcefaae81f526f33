using System.Collections.Concurrent;
using DeliveryConsole.Data;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>
/// Which database the tests run on. SQLite files by default; with <c>DC_TEST_POSTGRES</c> set to a
/// PostgreSQL server's connection string (scripts/test.sh starts a private cluster and sets it),
/// every test database is a PostgreSQL database of its own, cloned from a template migrated once
/// per test run (a clone takes ~50 ms; migrating from scratch ~1 s). A test database is known by a
/// file path on both providers: on PostgreSQL the path names its database, and the path's folder
/// is the node's data folder, so a second host "on the same database" shares both, as on SQLite.
/// </summary>
public static class TestProvider
{
    private static readonly string? Server = Environment.GetEnvironmentVariable("DC_TEST_POSTGRES");
    private static readonly ConcurrentDictionary<string, string> Databases = new(StringComparer.Ordinal);
    private static readonly SemaphoreSlim TemplateGate = new(1, 1);
    private static string? _template;
    private static int _next;

    public static bool IsPostgres => !string.IsNullOrEmpty(Server);

    public static string Name => IsPostgres ? "PostgreSQL" : "SQLite";

    /// <summary>The database options for the test database known by <paramref name="path"/>.</summary>
    public static DatabaseOptions OptionsFor(string path) => IsPostgres
        ? new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = ConnectionStringFor(path), DataFolder = System.IO.Path.GetDirectoryName(path)! }
        : new DatabaseOptions { Path = path };

    /// <summary>The settings that put a host on the test database known by <paramref name="path"/>.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> SettingsFor(string path) => IsPostgres
        ?
        [
            new("Database:Provider", "Postgres"),
            new("Database:ConnectionString", ConnectionStringFor(path)),
            new("Database:DataFolder", System.IO.Path.GetDirectoryName(path)),
            new("Jobs:InvisibilityTimeout", "00:00:05"),
        ]
        : [new("Database:Path", path)];

    /// <summary>The PostgreSQL database of <paramref name="path"/>, cloned from the migrated template on first use.</summary>
    public static string ConnectionStringFor(string path) => Databases.GetOrAdd(path, _ => CreateDatabase());

    /// <summary>Drops the PostgreSQL databases of the test databases in <paramref name="folder"/> (nothing on SQLite).</summary>
    public static void DropIn(string folder)
    {
        if (!IsPostgres)
        {
            return;
        }

        foreach (var path in Databases.Keys.Where(p => p.StartsWith(folder, StringComparison.Ordinal)).ToList())
        {
            if (Databases.TryRemove(path, out var connectionString))
            {
                var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
                NpgsqlConnection.ClearPool(new NpgsqlConnection(connectionString));
                try
                {
                    Admin($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                }
                catch (NpgsqlException)
                {
                    // The cluster is stopped with the run; a database left behind goes with it.
                }
            }
        }
    }

    private static string CreateDatabase()
    {
        var template = Template();
        var name = $"dc_{Environment.ProcessId}_{Interlocked.Increment(ref _next)}";
        Admin($"CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
        return new NpgsqlConnectionStringBuilder(Server) { Database = name, MaxPoolSize = 30 }.ToString();
    }

    /// <summary>A database migrated once per test run (and with Hangfire's schema), for the others to be cloned from.</summary>
    private static string Template()
    {
        if (_template is not null)
        {
            return _template;
        }

        TemplateGate.Wait();
        try
        {
            if (_template is not null)
            {
                return _template;
            }

            var name = $"dc_template_{Environment.ProcessId}";
            Admin($"DROP DATABASE IF EXISTS \"{name}\"");
            Admin($"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'");
            var connectionString = new NpgsqlConnectionStringBuilder(Server) { Database = name, Pooling = false }.ToString();
            var options = new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = connectionString, DataFolder = System.IO.Path.GetTempPath() };
            using (var services = new ServiceCollection()
                .AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning))
                .AddSingleton(Options.Create(options))
                .AddDbContextFactory<AppDbContext>((_, db) => db.UseConsoleDatabase(options))
                .BuildServiceProvider())
            {
                services.MigrateDatabaseAsync().GetAwaiter().GetResult();
            }

            // Hangfire's tables too, so no test host installs them.
            using (new Hangfire.PostgreSql.PostgreSqlStorage(
                new Hangfire.PostgreSql.Factories.NpgsqlConnectionFactory(connectionString, new Hangfire.PostgreSql.PostgreSqlStorageOptions()),
                new Hangfire.PostgreSql.PostgreSqlStorageOptions { SchemaName = "hangfire", PrepareSchemaIfNecessary = true }) as IDisposable)
            {
            }

            NpgsqlConnection.ClearAllPools();
            _template = name;
            return name;
        }
        finally
        {
            TemplateGate.Release();
        }
    }

    private static void Admin(string sql)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Server) { Pooling = false }.ToString());
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = 120 };
        command.ExecuteNonQuery();
    }
}

/// <summary>A test that checks something only SQLite has (its file, its PRAGMAs, its migration history); skipped on PostgreSQL.</summary>
public sealed class SqliteFactAttribute : FactAttribute
{
    public SqliteFactAttribute()
    {
        if (TestProvider.IsPostgres)
        {
            Skip = "SQLite only";
        }
    }
}

/// <summary>A test that needs PostgreSQL (several nodes on one database); skipped on SQLite.</summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!TestProvider.IsPostgres)
        {
            Skip = "PostgreSQL only (scripts/test.sh runs it)";
        }
    }
}

/// <summary>A theory about something only SQLite has; skipped on PostgreSQL.</summary>
public sealed class SqliteTheoryAttribute : TheoryAttribute
{
    public SqliteTheoryAttribute()
    {
        if (TestProvider.IsPostgres)
        {
            Skip = "SQLite only";
        }
    }
}
