using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace DeliveryConsole.Data;

/// <summary>
/// Hand-written statements on a context's own connection and transaction, for the hot write
/// paths the writer runs (claims, batched attempt recording, retention): a command can be
/// prepared once and executed with new parameter values many times.
/// </summary>
public static class RawSql
{
    /// <summary>A command in <paramref name="db"/>'s current transaction, with parameters of these names and values.</summary>
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

    /// <summary>Sets a parameter of a command made by <see cref="Command"/> for its next execution.</summary>
    public static void Set(this DbCommand command, string name, object? value) => command.Parameters[name].Value = value ?? DBNull.Value;
}
