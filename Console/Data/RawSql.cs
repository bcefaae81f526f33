using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace DeliveryConsole.Data;

/// <summary>
/// Hand-written statements on a context's own connection and transaction, for the hot write
/// paths the writer runs (publishing, claims, batched attempt recording, rollups, retention).
/// </summary>
public static class RawSql
{
    /// <summary>Commands kept per connection object, by their text: prepared once, executed with new values many times.</summary>
    private static readonly ConditionalWeakTable<DbConnection, Dictionary<string, DbCommand>> Cache = new();

    /// <summary>A command in <paramref name="db"/>'s current transaction, with parameters of these names and values; the caller disposes it.</summary>
    public static DbCommand Command(AppDbContext db, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = db.Database.GetDbConnection().CreateCommand();
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    /// <summary>
    /// The command for <paramref name="sql"/> on this context's connection, kept with the
    /// connection and bound to the current transaction, with the parameters named (values set
    /// with <see cref="Set"/>). Not to be disposed by the caller. Parameters are the <c>@name</c>
    /// tokens of the text.
    /// </summary>
    public static DbCommand Prepared(AppDbContext db, string sql)
    {
        var connection = db.Database.GetDbConnection();
        var commands = Cache.GetOrCreateValue(connection);
        lock (commands)
        {
            if (!commands.TryGetValue(sql, out var command))
            {
                command = connection.CreateCommand();
                var names = ParameterNames(sql).ToList();
                var byName = new Dictionary<string, DbParameter>(StringComparer.Ordinal);
                // PostgreSQL: the text is sent with positional $1…$n (Npgsql would otherwise parse it
                // for @names at every execution); the parameters are found by name here.
                // (A text of several statements keeps its @names: Npgsql splits it, and the server
                // takes several statements only as separate ones.)
                var positional = connection is NpgsqlConnection && !sql.TrimEnd().TrimEnd(';').Contains(';');
                command.CommandText = positional ? ToPositional(sql, names) : sql;
                foreach (var name in names)
                {
                    var parameter = command.CreateParameter();
                    parameter.ParameterName = positional ? "" : name;
                    parameter.Value = DBNull.Value;
                    command.Parameters.Add(parameter);
                    byName[name] = parameter;
                }

                Parameters.AddOrUpdate(command, byName);
                commands[sql] = command;
            }

            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            return command;
        }
    }

    /// <summary>
    /// Sets a parameter of a command for its next execution, stored as the model stores it: a GUID
    /// as lowercase canonical text, a timestamp as UTC ticks (see <see cref="AppDbContext"/>'s conventions).
    /// </summary>
    public static void Set(this DbCommand command, string name, object? value) =>
        (Parameters.TryGetValue(command, out var byName) ? byName[name] : command.Parameters[name]).Value = value switch
    {
        null => DBNull.Value,
        Guid id => id.ToString("D"),
        DateTime at => UtcTicksConverter.ToTicks(at),
        _ => value,
    };

    /// <summary>
    /// Sets an array parameter for its next execution (PostgreSQL's <c>unnest</c>): the value of each
    /// row, stored as <see cref="Set"/> stores one (GUIDs as text, timestamps as UTC ticks).
    /// </summary>
    public static void SetEach<TRow, TValue>(this DbCommand command, string name, IReadOnlyList<TRow> rows, Func<TRow, TValue> value) =>
        command.Set(name, rows.Select(value) switch
        {
            IEnumerable<Guid> ids => ids.Select(id => id.ToString("D")).ToArray(),
            IEnumerable<Guid?> ids => ids.Select(id => id?.ToString("D")).ToArray(),
            IEnumerable<DateTime> times => times.Select(UtcTicksConverter.ToTicks).ToArray(),
            IEnumerable<DateTime?> times => times.Select(t => t is { } at ? UtcTicksConverter.ToTicks(at) : (long?)null).ToArray(),
            var values => values.ToArray(),
        });

    /// <summary>
    /// A list of ids as one parameter value: a JSON array for SQLite (read with <c>json_each</c>), a
    /// text array for PostgreSQL; with <see cref="InIdList"/> the statement stays the same text
    /// (prepared once) whatever the number of ids.
    /// </summary>
    public static object IdList(AppDbContext db, IReadOnlyCollection<Guid> ids) => db.IsPostgres()
        ? ids.Select(id => id.ToString("D")).ToArray()
        : JsonSerializer.Serialize(ids.Select(id => id.ToString("D")));

    /// <summary>The condition "<paramref name="column"/> is one of the ids of <paramref name="parameter"/>" (see <see cref="IdList"/>).</summary>
    public static string InIdList(AppDbContext db, string column, string parameter) => db.IsPostgres()
        ? $"{column} = ANY ({parameter})"
        : $"{column} IN (SELECT value FROM json_each({parameter}))";

    /// <summary>The parameters of each prepared command by name (on PostgreSQL they are positional).</summary>
    private static readonly ConditionalWeakTable<DbCommand, Dictionary<string, DbParameter>> Parameters = new();

    /// <summary>The text a prepared command sends to PostgreSQL (each @name as $k) and how many parameters it has (for plan tests).</summary>
    internal static (string Text, int Parameters) PositionalText(string sql)
    {
        var names = ParameterNames(sql).ToList();
        return (ToPositional(sql, names), names.Count);
    }

    /// <summary><paramref name="sql"/> with each @name replaced by $k, k its place in <paramref name="names"/> (1-based).</summary>
    private static string ToPositional(string sql, List<string> names)
    {
        var text = new System.Text.StringBuilder(sql.Length);
        for (var i = 0; i < sql.Length; i++)
        {
            var end = i + 1;
            if (sql[i] == '@')
            {
                while (end < sql.Length && (char.IsLetterOrDigit(sql[end]) || sql[end] == '_'))
                {
                    end++;
                }
            }

            if (sql[i] != '@' || end == i + 1)
            {
                text.Append(sql[i]);
                continue;
            }

            text.Append('$').Append(names.IndexOf(sql[i..end]) + 1);
            i = end - 1;
        }

        return text.ToString();
    }

    private static IEnumerable<string> ParameterNames(string sql)
    {
        var seen = new HashSet<string>();
        for (var i = 0; i < sql.Length; i++)
        {
            if (sql[i] != '@')
            {
                continue;
            }

            var end = i + 1;
            while (end < sql.Length && (char.IsLetterOrDigit(sql[end]) || sql[end] == '_'))
            {
                end++;
            }

            if (end > i + 1 && seen.Add(sql[i..end]))
            {
                yield return sql[i..end];
            }

            i = end - 1;
        }
    }
}
