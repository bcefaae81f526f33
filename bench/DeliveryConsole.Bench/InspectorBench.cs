using System.Diagnostics;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Webhooks;
using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DeliveryConsole.Bench;

/// <summary>
/// The inspector on a large seeded file: the grid's first page under each single filter and the
/// account API's list, timed server-side (the query service in-process, as the page and the API
/// call it) and end to end over HTTP, each against the same query in raw SQL on the same file.
/// </summary>
public static class InspectorBench
{
    /// <summary>Runs every kind, or with <paramref name="only"/> the kinds whose name contains it (e.g. "payload").</summary>
    public static async Task<int> RunAsync(BenchDatabase database, int requests, Func<string> consoleAssembly, Func<int> freePort, string? only = null)
    {
        Console.WriteLine($"inspector: {database.Describe()}, {requests} requests per kind, {Environment.ProcessorCount} cores, .NET {Environment.Version}");

        // The console's CLI applies pending migrations (indexes) to the file first.
        var key = await BenchConsole.CreateKeyAsync(database, consoleAssembly(), "inspector bench");
        await using var console = await BenchConsole.StartAsync(database, key, consoleAssembly(), freePort());
        var http = console.Http;

        await using var raw = await database.OpenRawAsync();
        var workspace = Guid.Parse((string)(await Scalar(database, raw, "SELECT w.Id FROM workspaces w ORDER BY (SELECT COUNT(*) FROM deliveries d WHERE d.WorkspaceId = w.Id LIMIT 1) DESC LIMIT 1"))!);
        var sample = await Row(database, raw, "SELECT EventId, TargetHost, EndpointId FROM deliveries WHERE WorkspaceId = $w ORDER BY CreatedAt DESC LIMIT 1 OFFSET 5000", workspace);
        var (eventId, host, endpointId) = ((string)sample[0], (string)sample[1], Guid.Parse((string)sample[2]));
        var hostPrefix = host[..Math.Min(6, host.Length)];
        // A phone number sent in the last 24 hours: a payload search for a rare value reads its whole window.
        var number = (string)(await Row(database, raw, database.IsPostgres
            ? "SELECT json_extract_path_text(PayloadJson::json, 'data', 'call', 'to_number') FROM deliveries WHERE WorkspaceId = $w AND CallId IS NOT NULL ORDER BY CreatedAt DESC LIMIT 1 OFFSET 5000"
            : "SELECT json_extract(PayloadJson, '$.data.call.to_number') FROM deliveries WHERE WorkspaceId = $w AND CallId IS NOT NULL ORDER BY CreatedAt DESC LIMIT 1 OFFSET 5000", workspace))[0];
        string Json(string[] path, string value) => database.IsPostgres
            ? $"AND json_extract_path_text(PayloadJson::json, {string.Join(", ", path.Select(p => $"'{p}'"))}) = '{value}'"
            : $"AND CAST(json_extract(PayloadJson, '$.{string.Join('.', path)}') AS TEXT) = '{value}'";

        await using var services = new ServiceCollection()
            .AddDbContextFactory<AppDbContext>(o => o.UseConsoleDatabase(database.Options))
            .AddSingleton(TimeProvider.System)
            .AddSingleton<DeliveryQueries>()
            .AddSingleton<DeliveryConsole.Features.Deliveries.Live.DeliveryNotifier>()
            .BuildServiceProvider();
        var queries = services.GetRequiredService<DeliveryQueries>();
        var caller = new Caller(workspace, Role.Viewer, "key", "bench", "bench");
        var now = DateTime.UtcNow;
        const string Columns = "Id, EventId, EventType, Channel, Status, EndpointId, EndpointScope, ApplicationId, CampaignId, TargetUrl, TargetHost, CallId, Attempts, LastResponseStatus, LastError, LastDurationMs, LastAttemptAt, NextAttemptAt, CreatedAt, DeliveredAt";
        const string Order = "ORDER BY CreatedAt DESC, Id DESC LIMIT 50";
        var kinds = new (string Name, DeliveryFilter Filter, string Where)[]
        {
            ("no filter", new(), ""),
            ("status = failed", new() { Status = DeliveryStatus.Failed }, "AND Status = 2"),
            ("event type", new() { EventType = "call.completed" }, "AND EventType = 'call.completed'"),
            ("endpoint", new() { EndpointId = endpointId }, $"AND EndpointId = '{endpointId}'"),
            ("scope = application", new() { Scope = EndpointScope.Application }, "AND EndpointScope = 1"),
            ("channel = sms", new() { Channel = "sms" }, "AND Channel = 'sms'"),
            ("last 24 h", new() { From = now.AddHours(-24) }, $"AND CreatedAt >= {now.AddHours(-24).Ticks}"),
            ("search: event id", new() { Search = eventId }, $"AND EventId = '{eventId}'"),
            ("search: host", new() { Search = host }, $"AND TargetHost = '{host}'"),
            ("search: host prefix", new() { Search = hostPrefix }, await HostsWhereAsync(database, raw, hostPrefix)),
            ("search: one-letter host prefix (several hosts)", new() { Search = host[..1] }, await HostsWhereAsync(database, raw, host[..1])),
            ("payload, 24 h: $.data.call.to_number = (one number)", new() { From = now.AddHours(-24), Payload = $"$.data.call.to_number = {number}" },
                $"AND CreatedAt >= {now.AddHours(-24).Ticks} {Json(["data", "call", "to_number"], number)}"),
            ("payload, 7 d: $.data.call.to_number = (one number)", new() { From = now.AddDays(-7), Payload = $"$.data.call.to_number = {number}" },
                $"AND CreatedAt >= {now.AddDays(-7).Ticks} {Json(["data", "call", "to_number"], number)}"),
            ("payload, 24 h: $.data.call.status = COMPLETED (common)", new() { From = now.AddHours(-24), Payload = "$.data.call.status = COMPLETED" },
                $"AND CreatedAt >= {now.AddHours(-24).Ticks} {Json(["data", "call", "status"], "COMPLETED")}"),
            ("payload, 7 d: $.data.call.status = COMPLETED (common)", new() { From = now.AddDays(-7), Payload = "$.data.call.status = COMPLETED" },
                $"AND CreatedAt >= {now.AddDays(-7).Ticks} {Json(["data", "call", "status"], "COMPLETED")}"),
            ("payload, 7 d, failed only: $.data.call.status = COMPLETED", new() { From = now.AddDays(-7), Status = DeliveryStatus.Failed, Payload = "$.data.call.status = COMPLETED" },
                $"AND CreatedAt >= {now.AddDays(-7).Ticks} AND Status = 2 {Json(["data", "call", "status"], "COMPLETED")}"),
        };
        if (only is { Length: > 0 })
        {
            kinds = kinds.Where(k => k.Name.Contains(only, StringComparison.Ordinal)).ToArray();
        }

        // The process's first query builds EF Core's model (about a second); not what a user waits for.
        // The console does the same at start-up (QueryWarmup), on a workspace that does not exist.
        await queries.PageAsync(caller, new DeliveryFilter { Search = eventId }, DeliverySort.Newest, 0, 50);
        var nobody = Caller.System(Guid.Empty);
        await queries.PageAsync(nobody, new DeliveryFilter(), DeliverySort.Newest, 0, 50);
        await queries.PageAsync(nobody, new DeliveryFilter { Status = DeliveryStatus.Failed }, DeliverySort.Newest, 0, 50, countUpTo: 10_000);
        Console.WriteLine();
        Console.WriteLine("| kind | first request (counting) | p50 (count reused) | p95 | raw SQL p50 | raw SQL p95 | plan of the raw SQL |");
        Console.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var (name, filter, where) in kinds)
        {
            // As the grid asks: the page and a count that stops at 10,000.
            var first = await TimeOnceAsync(() => queries.PageAsync(caller, filter, DeliverySort.Newest, 0, 50, countUpTo: 10_000));
            var service = await TimeAsync(requests, () => queries.PageAsync(caller, filter, DeliverySort.Newest, 0, 50, countUpTo: 10_000));
            // The hand-written equivalent; several hosts: each host's newest rows from its index, merged.
            var sqlText = where.StartsWith("HOSTS ", StringComparison.Ordinal)
                ? $"SELECT * FROM ({string.Join(" UNION ALL ", where[6..].Split(',').Select((h, i) => $"SELECT * FROM (SELECT {Columns} FROM deliveries WHERE WorkspaceId = $w AND TargetHost = '{h}' {Order}) AS h{i}"))}) AS merged {Order}"
                : $"SELECT {Columns} FROM deliveries WHERE WorkspaceId = $w {where} {Order}";
            var sql = await TimeAsync(requests, () => Query(database, raw, sqlText, workspace));
            Console.WriteLine($"| grid, {name} | {first:F1} ms | {service.P50:F2} ms | {service.P95:F2} ms | {sql.P50:F2} ms | {sql.P95:F2} ms | {await PlanAsync(database, raw, sqlText, workspace)} |");
        }

        var apiFirst = await TimeOnceAsync(() => http.GetStringAsync("/v1/webhooks/deliveries?limit=50&offset=0"));
        var api = await TimeAsync(requests, () => http.GetStringAsync("/v1/webhooks/deliveries?limit=50"));
        var apiService = await TimeAsync(requests, async () =>
        {
            var page = await queries.PageAsync(caller, new DeliveryFilter(), DeliverySort.Newest, 0, 50);
            return await queries.LatestResponseBodiesAsync(page.Items.Select(i => i.Id).ToList());
        });
        var apiSql = await TimeAsync(requests, () => Query(database, raw,
            $"SELECT {Columns}, (SELECT a.ResponseBody FROM delivery_attempts a WHERE a.DeliveryId = d.Id ORDER BY a.Number DESC LIMIT 1) FROM deliveries d WHERE WorkspaceId = $w {Order}", workspace));
        Console.WriteLine($"| GET /v1/webhooks/deliveries?limit=50, server-side | {apiFirst:F1} ms (over HTTP) | {apiService.P50:F2} ms | {apiService.P95:F2} ms | {apiSql.P50:F2} ms | {apiSql.P95:F2} ms |");
        Console.WriteLine($"| GET /v1/webhooks/deliveries?limit=50, over HTTP (client-side) | | {api.P50:F2} ms | {api.P95:F2} ms | | |");
        var hoursFirst = await TimeOnceAsync(() => http.GetStringAsync("/v1/webhooks/deliveries?limit=50&hours=24"));
        var hours = await TimeAsync(requests, () => http.GetStringAsync("/v1/webhooks/deliveries?limit=50&hours=24"));
        Console.WriteLine($"| GET /v1/webhooks/deliveries?limit=50&hours=24, over HTTP (exact total) | {hoursFirst:F1} ms | {hours.P50:F2} ms | {hours.P95:F2} ms | | |");
        return 0;
    }

    /// <summary>The hosts a prefix matches, found by skipping through the host index, as "HOSTS h1,h2".</summary>
    private static async Task<string> HostsWhereAsync(BenchDatabase database, DbConnection connection, string prefix)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = database.Sql("""
            WITH RECURSIVE hosts(host) AS (
                SELECT MIN(TargetHost) FROM deliveries WHERE TargetHost >= $low AND TargetHost < $high
                UNION ALL
                SELECT (SELECT MIN(TargetHost) FROM deliveries WHERE TargetHost > hosts.host AND TargetHost < $high) FROM hosts WHERE hosts.host IS NOT NULL)
            SELECT host FROM hosts WHERE host IS NOT NULL LIMIT 50
            """);
        database.Parameter(command, "$low", prefix);
        database.Parameter(command, "$high", prefix + '\uffff');
        var hosts = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            hosts.Add(reader.GetString(0));
        }

        return "HOSTS " + string.Join(",", hosts);
    }

    /// <summary>The indexes the database's plan for <paramref name="sql"/> reads, and whether it sorts more than ties.</summary>
    private static async Task<string> PlanAsync(BenchDatabase database, DbConnection connection, string sql, Guid workspace)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = (database.IsPostgres ? "EXPLAIN " : "EXPLAIN QUERY PLAN ") + database.Sql(sql);
        database.Parameter(command, "$w", workspace.ToString());
        var lines = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                lines.Add(reader.GetString(database.IsPostgres ? 0 : 3));
            }
        }

        var indexes = lines.SelectMany(l => System.Text.RegularExpressions.Regex.Matches(l, @"(?:INDEX|using) ""?(\w+)").Select(m => m.Groups[1].Value)).Distinct();
        var sorts = lines.Any(l => l.Contains("TEMP B-TREE FOR ORDER BY", StringComparison.Ordinal) || (l.TrimStart().StartsWith("->  Sort", StringComparison.Ordinal) || l.StartsWith("Sort", StringComparison.Ordinal)) && !l.Contains("Incremental", StringComparison.Ordinal));
        return string.Join(", ", indexes) + (sorts ? "; sorts" : "");
    }

    internal static async Task<double> TimeOnceAsync<T>(Func<Task<T>> action)
    {
        var stopwatch = Stopwatch.StartNew();
        await action();
        return stopwatch.Elapsed.TotalMilliseconds;
    }

    internal static async Task<(double P50, double P95)> TimeAsync<T>(int count, Func<Task<T>> action)
    {
        for (var i = 0; i < 5; i++)
        {
            await action();
        }

        var times = new List<double>(count);
        for (var i = 0; i < count; i++)
        {
            var stopwatch = Stopwatch.StartNew();
            await action();
            times.Add(stopwatch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        return (times[(int)(count * 0.50)], times[Math.Min(count - 1, (int)(count * 0.95))]);
    }

    private static async Task<int> Query(BenchDatabase database, DbConnection connection, string sql, Guid workspace)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = database.Sql(sql);
        database.Parameter(command, "$w", workspace.ToString());
        await using var reader = await command.ExecuteReaderAsync();
        var rows = 0;
        while (await reader.ReadAsync())
        {
            for (var i = 0; i < reader.FieldCount; i++)
            {
                _ = reader.GetValue(i);
            }

            rows++;
        }

        return rows;
    }

    internal static async Task<object?> Scalar(BenchDatabase database, DbConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = database.Sql(sql);
        return await command.ExecuteScalarAsync();
    }

    internal static async Task<object[]> Row(BenchDatabase database, DbConnection connection, string sql, Guid workspace)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = database.Sql(sql);
        database.Parameter(command, "$w", workspace.ToString());
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        var values = new object[reader.FieldCount];
        reader.GetValues(values);
        return values;
    }
}
