using System.Globalization;
using Npgsql;

namespace DeliveryConsole.Bench;

/// <summary>
/// What the PostgreSQL server spent over a measured phase: the CPU time of its processes (from
/// <c>/proc</c>: the server runs on this machine) and, when the server loads
/// <c>pg_stat_statements</c>, the execution time and calls of each statement. Per delivery, so
/// it reads beside the console's own CPU per delivery.
/// </summary>
public sealed class ServerFigures
{
    private readonly string _connectionString;
    private readonly bool _statements;
    private double _cpuMs;

    private ServerFigures(string connectionString, bool statements)
    {
        _connectionString = connectionString;
        _statements = statements;
    }

    /// <summary>Starts measuring; resets the server's statement statistics when it keeps them.</summary>
    public static async Task<ServerFigures> StartAsync(string connectionString)
    {
        var statements = false;
        await using (var connection = new NpgsqlConnection(connectionString))
        {
            await connection.OpenAsync();
            await using var loaded = new NpgsqlCommand("SELECT current_setting('shared_preload_libraries') LIKE '%pg_stat_statements%'", connection);
            if ((bool)(await loaded.ExecuteScalarAsync())!)
            {
                await using var create = new NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements; SELECT pg_stat_statements_reset();", connection);
                await create.ExecuteNonQueryAsync();
                statements = true;
            }
        }

        return new ServerFigures(connectionString, statements) { _cpuMs = ServerCpuMs() };
    }

    /// <summary>Prints the server's CPU per delivery and, if kept, its statements' time per delivery (the costliest first).</summary>
    public async Task PrintAsync(int deliveries, TextWriter output)
    {
        var cpu = (ServerCpuMs() - _cpuMs) * 1000 / deliveries;
        output.WriteLine($"    server CPU {cpu:F0} µs per delivery (PostgreSQL processes, /proc)"
            + (_statements ? "; statements by execution time per delivery:" : " (start the server with shared_preload_libraries=pg_stat_statements for a per-statement split)"));
        if (!_statements)
        {
            return;
        }

        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var read = new NpgsqlCommand("""
            SELECT total_exec_time, calls, rows, regexp_replace(query, '\s+', ' ', 'g')
            FROM pg_stat_statements WHERE query NOT LIKE '%pg_stat_statements%'
            ORDER BY total_exec_time DESC LIMIT 12
            """, connection);
        await using var reader = await read.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var totalMs = reader.GetDouble(0);
            var calls = reader.GetInt64(1);
            var rows = reader.GetInt64(2);
            var query = reader.GetString(3);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"      {totalMs * 1000 / deliveries,7:F1} µs  {calls,7} calls  {rows,8} rows  {(query.Length > 110 ? query[..110] + "…" : query)}"));
        }
    }

    /// <summary>User and system CPU of every process named postgres on this machine, in ms (a backend that exited is not counted).</summary>
    private static double ServerCpuMs()
    {
        var ticks = 0L;
        foreach (var folder in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(folder), out _))
            {
                continue;
            }

            try
            {
                var stat = File.ReadAllText(Path.Combine(folder, "stat"));
                var close = stat.LastIndexOf(')');
                if (!stat[(stat.IndexOf('(') + 1)..close].StartsWith("postgres", StringComparison.Ordinal))
                {
                    continue;
                }

                // Fields after the command: state is field 3; utime and stime are fields 14 and 15.
                var fields = stat[(close + 2)..].Split(' ');
                ticks += long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            }
            catch (IOException)
            {
                // The process ended meanwhile.
            }
        }

        // Clock ticks are 1/100 s on Linux.
        return ticks * 10.0;
    }
}
