using System.Data;
using DeliveryConsole.Data;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace DeliveryConsole.Features.Cli;

/// <summary>
/// Loads many rows fast, in large transactions: on SQLite one prepared INSERT per table reused for
/// every row; on PostgreSQL the rows of each table are kept until <see cref="Commit"/> and written
/// with binary <c>COPY</c> (NpgsqlBinaryImporter), table after table in the order the tables were
/// opened (so rows referenced by foreign keys go first).
/// </summary>
internal abstract class BulkLoad : IDisposable
{
    public static BulkLoad Open(DatabaseOptions database) =>
        database.IsPostgres ? new PostgresBulkLoad(database.PostgresConnectionString) : new SqliteBulkLoad(database.SqliteConnectionString);

    /// <summary>A table to add rows to, with these columns in this order.</summary>
    public abstract BulkTable Table(string table, params string[] columns);

    /// <summary>Stores every row added so far and starts a new transaction.</summary>
    public abstract void Commit();

    /// <summary>Recomputes the rollups of [<paramref name="fromTicks"/>, <paramref name="toTicks"/>) from the rows, in one transaction.</summary>
    public void RebuildRollups(long fromTicks, long toTicks)
    {
        Commit();
        Execute(Stats.RollupSql.Rebuild, ("@from", fromTicks), ("@to", toTicks));
        Commit();
    }

    /// <summary>Refreshes the planner's statistics after the load.</summary>
    public abstract void Analyze();

    protected abstract void Execute(string sql, params (string Name, object Value)[] parameters);

    public abstract void Dispose();
}

internal abstract class BulkTable
{
    public int Count { get; protected set; }

    /// <summary>Adds a row: values in the order of the table's columns (enums as their numbers, times as ticks, null for NULL).</summary>
    public abstract void Add(params object?[] values);
}

internal sealed class SqliteBulkLoad : BulkLoad
{
    private readonly SqliteConnection _connection;
    private readonly List<Inserter> _tables = [];
    private SqliteTransaction _transaction;

    public SqliteBulkLoad(string connectionString)
    {
        _connection = new SqliteConnection(connectionString);
        _connection.Open();
        Run("PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-200000; PRAGMA temp_store=MEMORY;");
        _transaction = _connection.BeginTransaction();
    }

    public override BulkTable Table(string table, params string[] columns)
    {
        var inserter = new Inserter(_connection, table, columns) { Transaction = _transaction };
        _tables.Add(inserter);
        return inserter;
    }

    public override void Commit()
    {
        _transaction.Commit();
        _transaction.Dispose();
        _transaction = _connection.BeginTransaction();
        foreach (var table in _tables)
        {
            table.Transaction = _transaction;
        }
    }

    public override void Analyze()
    {
        // PRAGMA synchronous may not change inside a transaction: the load's last one ends first.
        _transaction.Commit();
        _transaction.Dispose();
        Run("PRAGMA synchronous=NORMAL; ANALYZE;");
        // ANALYZE measured averages; the deliveries' rows go back to their shape (Data/PlannerStatistics).
        PlannerStatistics.KeepShape(_connection);
        _transaction = _connection.BeginTransaction();
        foreach (var table in _tables)
        {
            table.Transaction = _transaction;
        }
    }

    protected override void Execute(string sql, params (string Name, object Value)[] parameters)
    {
        using var command = _connection.CreateCommand();
        command.Transaction = _transaction;
        command.CommandText = sql;
        command.CommandTimeout = 0;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        command.ExecuteNonQuery();
    }

    private void Run(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    public override void Dispose()
    {
        _transaction.Dispose();
        foreach (var table in _tables)
        {
            table.Dispose();
        }

        _connection.Dispose();
    }

    /// <summary>One prepared INSERT reused for every row: the fast way to load SQLite from .NET.</summary>
    private sealed class Inserter : BulkTable, IDisposable
    {
        private readonly SqliteCommand _command;
        private readonly SqliteParameter[] _parameters;

        public Inserter(SqliteConnection connection, string table, string[] columns)
        {
            _command = connection.CreateCommand();
            _command.CommandText = $"INSERT INTO \"{table}\" ({string.Join(", ", columns.Select(c => $"\"{c}\""))}) VALUES ({string.Join(", ", columns.Select((_, i) => "$p" + i))})";
            _parameters = columns.Select((_, i) => _command.Parameters.Add(new SqliteParameter("$p" + i, DBNull.Value))).ToArray();
        }

        public SqliteTransaction Transaction
        {
            set => _command.Transaction = value;
        }

        public override void Add(params object?[] values)
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
}

internal sealed class PostgresBulkLoad : BulkLoad
{
    private readonly NpgsqlConnection _connection;
    private readonly List<Buffered> _tables = [];

    public PostgresBulkLoad(string connectionString)
    {
        _connection = new NpgsqlConnection(connectionString);
        _connection.Open();
    }

    public override BulkTable Table(string table, params string[] columns)
    {
        var types = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var command = new NpgsqlCommand("SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @table", _connection))
        {
            command.Parameters.AddWithValue("table", table);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                types[reader.GetString(0)] = reader.GetString(1);
            }
        }

        var buffered = new Buffered(table, columns, columns.Select(c => types.TryGetValue(c, out var type) ? TypeOf(type)
            : throw new InvalidOperationException($"Table {table} has no column {c}")).ToArray());
        _tables.Add(buffered);
        return buffered;
    }

    public override void Commit()
    {
        using var transaction = _connection.BeginTransaction();
        foreach (var table in _tables)
        {
            table.Flush(_connection);
        }

        transaction.Commit();
    }

    public override void Analyze()
    {
        Commit();
        using var command = new NpgsqlCommand("ANALYZE", _connection) { CommandTimeout = 0 };
        command.ExecuteNonQuery();
    }

    protected override void Execute(string sql, params (string Name, object Value)[] parameters)
    {
        using var transaction = _connection.BeginTransaction();
        using (var lockRollups = new NpgsqlCommand("LOCK TABLE delivery_rollups, latency_rollups, workspace_latency_rollups IN EXCLUSIVE MODE", _connection, transaction))
        {
            lockRollups.ExecuteNonQuery();
        }

        using (var command = new NpgsqlCommand(sql, _connection, transaction) { CommandTimeout = 0 })
        {
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name.TrimStart('@'), value);
            }

            command.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    public override void Dispose() => _connection.Dispose();

    private static NpgsqlDbType TypeOf(string dataType) => dataType switch
    {
        "bigint" => NpgsqlDbType.Bigint,
        "integer" => NpgsqlDbType.Integer,
        "smallint" => NpgsqlDbType.Smallint,
        "boolean" => NpgsqlDbType.Boolean,
        "double precision" => NpgsqlDbType.Double,
        "real" => NpgsqlDbType.Real,
        "numeric" => NpgsqlDbType.Numeric,
        "character varying" => NpgsqlDbType.Varchar,
        _ => NpgsqlDbType.Text,
    };

    /// <summary>Rows kept until the next commit, then copied in binary: values converted to the column's own type (COPY does not convert).</summary>
    private sealed class Buffered(string table, string[] columns, NpgsqlDbType[] types) : BulkTable
    {
        private readonly List<object?[]> _rows = [];

        public override void Add(params object?[] values)
        {
            _rows.Add(values);
            Count++;
        }

        public void Flush(NpgsqlConnection connection)
        {
            if (_rows.Count == 0)
            {
                return;
            }

            using (var importer = connection.BeginBinaryImport(
                $"COPY \"{table}\" ({string.Join(", ", columns.Select(c => $"\"{c}\""))}) FROM STDIN (FORMAT BINARY)"))
            {
                foreach (var row in _rows)
                {
                    importer.StartRow();
                    for (var i = 0; i < row.Length; i++)
                    {
                        WriteValue(importer, row[i], types[i]);
                    }
                }

                importer.Complete();
            }

            _rows.Clear();
        }

        private static void WriteValue(NpgsqlBinaryImporter importer, object? value, NpgsqlDbType type)
        {
            if (value is null)
            {
                importer.WriteNull();
                return;
            }

            switch (type)
            {
                case NpgsqlDbType.Bigint: importer.Write(Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture), type); break;
                case NpgsqlDbType.Integer: importer.Write(Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture), type); break;
                case NpgsqlDbType.Smallint: importer.Write(Convert.ToInt16(value, System.Globalization.CultureInfo.InvariantCulture), type); break;
                case NpgsqlDbType.Boolean: importer.Write(Convert.ToBoolean(value, System.Globalization.CultureInfo.InvariantCulture), type); break;
                case NpgsqlDbType.Double: importer.Write(Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), type); break;
                default: importer.Write(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!, type); break;
            }
        }
    }
}
