using Microsoft.Data.Sqlite;

namespace DeliveryConsole.Features.Cli;

/// <summary>One prepared INSERT reused for every row: the fast way to load SQLite from .NET.</summary>
internal sealed class BulkInserter : IDisposable
{
    private readonly SqliteCommand _command;
    private readonly SqliteParameter[] _parameters;

    public BulkInserter(SqliteConnection connection, string table, params string[] columns)
    {
        _command = connection.CreateCommand();
        _command.CommandText = $"INSERT INTO \"{table}\" ({string.Join(", ", columns.Select(c => $"\"{c}\""))}) VALUES ({string.Join(", ", columns.Select((_, i) => "$p" + i))})";
        _parameters = columns.Select((_, i) => _command.Parameters.Add(new SqliteParameter("$p" + i, DBNull.Value))).ToArray();
    }

    public int Count { get; private set; }

    public SqliteTransaction? Transaction
    {
        set => _command.Transaction = value;
    }

    public void Add(params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            _parameters[i].Value = values[i] ?? DBNull.Value;
        }

        _command.ExecuteNonQuery();
        Count++;
    }

    public void Dispose() => _command.Dispose();
}
