using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace DeliveryConsole.Data;

/// <summary>
/// Per-connection settings: synchronous=NORMAL is safe under WAL and much faster than FULL;
/// busy_timeout makes writers wait for the lock instead of failing at once.
/// </summary>
public sealed class SqlitePragmaInterceptor(int busyTimeoutMs) : DbConnectionInterceptor
{
    private readonly string _pragmas = $"PRAGMA synchronous=NORMAL; PRAGMA busy_timeout={busyTimeoutMs}; PRAGMA foreign_keys=ON;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = _pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = _pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
