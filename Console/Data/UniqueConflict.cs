using System.Data.Common;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Data;

/// <summary>
/// "One per" rules (one master webhook per workspace, one finishedUrl endpoint per application)
/// are held by unique indexes. A write that loses a race to insert the one row fails on the index;
/// <see cref="RetryAsync{T}"/> runs it again, and the second run finds the winner's row and updates
/// it: an upsert that any number of racing requests resolve to exactly one row.
/// </summary>
public static class UniqueConflict
{
    public static async Task<T> RetryAsync<T>(Func<Task<T>> write, int attempts = 3)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await write();
            }
            catch (DbUpdateException exception) when (attempt < attempts && IsUniqueViolation(exception))
            {
                // Lost the race for the one row: the next run sees it and updates it instead.
            }
        }
    }

    public static bool IsUniqueViolation(Exception exception) => exception.InnerException switch
    {
        // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
        SqliteException sqlite => sqlite.SqliteExtendedErrorCode is 2067 or 1555,
        // PostgreSQL unique_violation
        DbException db => db.SqlState == "23505",
        _ => false,
    };
}
