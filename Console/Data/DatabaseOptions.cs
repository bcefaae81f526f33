using System.ComponentModel.DataAnnotations;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace DeliveryConsole.Data;

public enum DatabaseProvider
{
    /// <summary>An embedded SQLite file: the default, nothing to install.</summary>
    Sqlite,

    /// <summary>A PostgreSQL database that several console nodes may share.</summary>
    Postgres,
}

public sealed class DatabaseOptions : IValidatableObject
{
    public const string Section = "Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>SQLite file; a relative path is taken from the working directory.</summary>
    [Required]
    public string Path { get; set; } = "data/deliveryconsole.db";

    /// <summary>
    /// PostgreSQL connection string (<c>Database:ConnectionString</c>, or <c>ConnectionStrings:Postgres</c>).
    /// </summary>
    public string? ConnectionString { get; set; }

    /// <summary>Milliseconds a connection waits for a lock before giving up.</summary>
    [Range(100, 120_000)]
    public int BusyTimeoutMs { get; set; } = 10_000;

    private string? _dataFolder;

    /// <summary>
    /// This node's own files: its node identity, recordings of simulated calls, and (on SQLite)
    /// the data protection keys. Default: the folder of the SQLite file, or <c>data</c> on PostgreSQL.
    /// </summary>
    public string DataFolder
    {
        get => System.IO.Path.GetFullPath(_dataFolder is { Length: > 0 } folder ? folder
            : Provider == DatabaseProvider.Sqlite ? System.IO.Path.GetDirectoryName(FullPath)! : "data");
        set => _dataFolder = value;
    }

    public bool IsPostgres => Provider == DatabaseProvider.Postgres;

    public string FullPath => System.IO.Path.GetFullPath(Path);

    /// <summary>Where the data lives, for log lines: the SQLite file, or the PostgreSQL host and database (never the password).</summary>
    public string Description => IsPostgres && !string.IsNullOrWhiteSpace(ConnectionString) && new NpgsqlConnectionStringBuilder(ConnectionString) is var pg
        ? $"PostgreSQL {pg.Host}:{pg.Port}/{pg.Database}"
        : FullPath;

    public string SqliteConnectionString => new SqliteConnectionStringBuilder
    {
        DataSource = FullPath,
        Pooling = true,
        DefaultTimeout = Math.Max(1, BusyTimeoutMs / 1000),
    }.ToString();

    /// <summary>
    /// The PostgreSQL connection string with the statements the console runs over and over
    /// prepared automatically on each physical connection (unless the operator set it).
    /// </summary>
    public string PostgresConnectionString
    {
        get
        {
            if (string.IsNullOrWhiteSpace(ConnectionString))
            {
                return "";
            }

            var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
            if (!ConnectionString.Contains("Max Auto Prepare", StringComparison.OrdinalIgnoreCase))
            {
                builder.MaxAutoPrepare = 256;
                builder.AutoPrepareMinUsages = 2;
            }

            if (string.IsNullOrEmpty(builder.ApplicationName))
            {
                builder.ApplicationName = "delivery-console";
            }

            return builder.ToString();
        }
    }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!IsPostgres)
        {
            yield break;
        }

        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new ValidationResult(
                "Database:Provider is Postgres but no connection string is set: set ConnectionStrings:Postgres or Database:ConnectionString.",
                [nameof(ConnectionString)]);
            yield break;
        }

        string? problem = null;
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(ConnectionString);
            if (string.IsNullOrEmpty(builder.Host))
            {
                problem = "it names no Host";
            }
        }
        catch (Exception exception) when (exception is ArgumentException or FormatException or KeyNotFoundException)
        {
            problem = exception.Message;
        }

        if (problem is not null)
        {
            yield return new ValidationResult($"Database:ConnectionString is not a valid PostgreSQL connection string: {problem}", [nameof(ConnectionString)]);
        }
    }
}
