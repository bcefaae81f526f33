using System.ComponentModel.DataAnnotations;
using Microsoft.Data.Sqlite;

namespace DeliveryConsole.Data;

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>SQLite file; a relative path is taken from the working directory.</summary>
    [Required]
    public string Path { get; set; } = "data/deliveryconsole.db";

    /// <summary>Milliseconds a connection waits for a lock before giving up.</summary>
    [Range(100, 120_000)]
    public int BusyTimeoutMs { get; set; } = 10_000;

    public string FullPath => System.IO.Path.GetFullPath(Path);

    /// <summary>The folder beside the database: data protection keys, recordings.</summary>
    public string DataFolder => System.IO.Path.GetDirectoryName(FullPath)!;

    public string ConnectionString => new SqliteConnectionStringBuilder
    {
        DataSource = FullPath,
        Pooling = true,
        DefaultTimeout = Math.Max(1, BusyTimeoutMs / 1000),
    }.ToString();
}
