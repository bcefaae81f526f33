using System.Data.Common;
using System.Text.RegularExpressions;
using DeliveryConsole.Data;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace DeliveryConsole.Bench;

/// <summary>
/// The seeded database a read benchmark runs on: a SQLite file (<c>--database PATH</c>) or a
/// PostgreSQL database (<c>--database postgres:CONNECTION-STRING</c>). The benchmarks' raw SQL is
/// written once, SQLite-style (bare column names, <c>$name</c> parameters); <see cref="Sql"/> quotes
/// the column names and renames the parameters for PostgreSQL.
/// </summary>
public sealed partial class BenchDatabase
{
    private const string Prefix = "postgres:";

    private BenchDatabase(string location) => Location = location;

    public string Location { get; }

    public bool IsPostgres => Location.StartsWith(Prefix, StringComparison.Ordinal);

    private string ConnectionString => Location[Prefix.Length..];

    public static BenchDatabase? Parse(string location) =>
        location.StartsWith(Prefix, StringComparison.Ordinal) || File.Exists(location) ? new BenchDatabase(location) : null;

    /// <summary>The folder the console runs in (SQLite: the file's; PostgreSQL: a temporary one).</summary>
    public string Folder { get; } = Path.Combine(Path.GetTempPath(), $"dc-bench-read-{Guid.NewGuid():N}");

    public string WorkingFolder => IsPostgres ? Directory.CreateDirectory(Folder).FullName : Path.GetDirectoryName(Path.GetFullPath(Location))!;

    public string Describe() => IsPostgres
        ? $"PostgreSQL {new NpgsqlConnectionStringBuilder(ConnectionString).Database} ({Size()})"
        : $"{Location} ({new FileInfo(Location).Length / 1_000_000:N0} MB)";

    private string Size()
    {
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT pg_size_pretty(pg_database_size(current_database()))", connection);
        return (string)command.ExecuteScalar()!;
    }

    /// <summary>The console's settings for this database.</summary>
    public string[] ConsoleArgs => IsPostgres
        ? ["--Database:Provider=Postgres", $"--Database:ConnectionString={ConnectionString}", $"--Database:DataFolder={WorkingFolder}"]
        : [$"--Database:Path={Location}"];

    public DatabaseOptions Options => IsPostgres
        ? new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = ConnectionString, DataFolder = WorkingFolder }
        : new DatabaseOptions { Path = Location };

    /// <summary>A raw connection for the hand-written reference queries (read-only on SQLite).</summary>
    public async Task<DbConnection> OpenRawAsync()
    {
        DbConnection connection = IsPostgres ? new NpgsqlConnection(ConnectionString) : new SqliteConnection($"Data Source={Location};Mode=ReadOnly");
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>SQLite-style SQL as this database takes it.</summary>
    public string Sql(string sql) => !IsPostgres ? sql
        : Parameter().Replace(Column().Replace(sql, m => $"\"{m.Value}\""), m => "@" + m.Groups[1].Value);

    /// <summary>A parameter named as <see cref="Sql"/> writes it.</summary>
    public DbParameter Parameter(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = IsPostgres ? name.TrimStart('$') : name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
        return parameter;
    }

    [GeneratedRegex(@"(?<![""\w])(Id|WorkspaceId|EventId|EventType|Channel|Status|EndpointId|EndpointScope|ApplicationId|CampaignId|TargetUrl|TargetHost|CallId|Attempts|LastResponseStatus|LastError|LastDurationMs|LastAttemptAt|NextAttemptAt|CreatedAt|DeliveredAt|ResponseBody|DeliveryId|Number|StartedAt|DurationMs|ResponseStatus|Type|Url|ToNumber|Name|NormalizedEmail|DeletedAt|PayloadJson)(?![""\w])")]
    private static partial Regex Column();

    [GeneratedRegex(@"\$([A-Za-z_]\w*)")]
    private static partial Regex Parameter();
}
