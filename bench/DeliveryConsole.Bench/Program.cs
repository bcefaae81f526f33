using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

// Benchmarks of Delivery Console (System.CommandLine; --help after any of them lists its options):
//   dotnet run -c Release --project bench/DeliveryConsole.Bench -- throughput [--events N] [--runs R]
//       [--postgres "Host=…;Username=…"] [--nodes N] [--quality 0|1]   (on PostgreSQL: a fresh database per run, N nodes)
//   … -- inspector|stats|find --database PATH|postgres:CONNECTION-STRING [--requests N]   (on a seeded database)
var root = new RootCommand("Benchmarks of Delivery Console: delivery throughput on fresh consoles, and the inspector, the stats and find anything on a seeded database.");
var eventsOption = new Option<int>("--events") { Description = "Events per run.", DefaultValueFactory = _ => 3000 };
var runsOption = new Option<int>("--runs") { Description = "Runs (the median is reported).", DefaultValueFactory = _ => 3 };
var postgresOption = new Option<string>("--postgres") { Description = "A PostgreSQL server's connection string: each run on a fresh database there instead of SQLite." };
var nodesOption = new Option<int>("--nodes") { Description = "Consoles sharing the PostgreSQL database.", DefaultValueFactory = _ => 1 };
var shapesOption = new Option<string>("--shapes")
{
    Description = "Which runs, comma-separated: single (lane 64), batch, default (lane 8), sixteen (16 endpoints at lane 8), sqlite (beside a PostgreSQL run). Default: all.",
    DefaultValueFactory = _ => "single,batch,default,sixteen,sqlite",
};
var qualityOption = new Option<int>("--quality") { Description = "1: also latency, retries, readers and recovery after the runs (SQLite); 0: the runs only.", DefaultValueFactory = _ => 1 };
var throughputCommand = new Command("throughput", "Deliveries per second, end to end, over single-event HTTP, the batch route and in-process publishes.")
{
    eventsOption, runsOption, postgresOption, nodesOption, qualityOption, shapesOption,
};
throughputCommand.SetAction(async (parse, _) =>
{
    // Checked here, not in a validator: a validator sees an option left out as 0, not as its default.
    if (parse.GetValue(eventsOption) < 1 || parse.GetValue(runsOption) < 1 || parse.GetValue(nodesOption) < 1)
    {
        Console.Error.WriteLine("error: --events, --runs and --nodes must be at least 1.");
        return 2;
    }

    // Read by the console starters below (static local functions): the server, and how many nodes share it.
    if (parse.GetValue(postgresOption) is { } server)
    {
        Environment.SetEnvironmentVariable("DC_BENCH_POSTGRES", server);
    }

    Environment.SetEnvironmentVariable("DC_BENCH_NODES", parse.GetValue(nodesOption).ToString(CultureInfo.InvariantCulture));
    var shapes = parse.GetValue(shapesOption)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.OrdinalIgnoreCase);
    return await ThroughputAsync(parse.GetValue(eventsOption), parse.GetValue(runsOption), parse.GetValue(qualityOption) == 1, shapes);
});
root.Subcommands.Add(throughputCommand);

var roundsOption = new Option<int>("--rounds") { Description = "Rounds of three concurrent batches per shape.", DefaultValueFactory = _ => 3 };
var batchMemoryCommand = new Command("batch-memory", "The console's resident memory above idle while three maximal batches (and refused oversized ones) arrive at once.") { roundsOption };
batchMemoryCommand.SetAction(async (parse, _) => await BatchMemoryAsync(Math.Max(1, parse.GetValue(roundsOption))));
root.Subcommands.Add(batchMemoryCommand);

var databaseOption = new Option<string>("--database")
{
    Description = "A seeded SQLite file (dotnet run --project Console -- seed-demo --deliveries 1000000 --Database:Path=PATH), or postgres:CONNECTION-STRING of a seeded PostgreSQL database.",
    Required = true,
};
var requestsOption = new Option<int>("--requests") { Description = "Timed requests per kind.", DefaultValueFactory = _ => 200 };
var onlyOption = new Option<string>("--only") { Description = "inspector: only the kinds whose name contains this text (e.g. payload)." };
foreach (var (name, description) in new[]
{
    ("inspector", "The inspector's grid under each filter, and the deliveries API, against the same queries in raw SQL."),
    ("stats", "The stats service and API and the dashboard's reads, checked against a GROUP BY over the rows."),
    ("find", "Find anything across workspaces, for each kind of id."),
})
{
    var command = new Command(name, description) { databaseOption, requestsOption };
    if (name == "inspector")
    {
        command.Options.Add(onlyOption);
    }

    command.SetAction(async (parse, _) =>
    {
        if (DeliveryConsole.Bench.BenchDatabase.Parse(parse.GetValue(databaseOption)!) is not { } database)
        {
            Console.Error.WriteLine($"error: --database {parse.GetValue(databaseOption)} is neither a file nor postgres:CONNECTION-STRING.");
            return 2;
        }

        var requests = Math.Max(1, parse.GetValue(requestsOption));
        return name switch
        {
            "stats" => await DeliveryConsole.Bench.StatsBench.RunAsync(database, requests, ConsoleAssembly, FreePort),
            "find" => await DeliveryConsole.Bench.FindBench.RunAsync(database, requests, ConsoleAssembly),
            _ => await DeliveryConsole.Bench.InspectorBench.RunAsync(database, requests, ConsoleAssembly, FreePort, parse.GetValue(onlyOption)),
        };
    });
    root.Subcommands.Add(command);
}

var parsed = root.Parse(args);
if (parsed.CommandResult.Command == root && parsed.Errors.Count == 0 && parsed.Action is not System.CommandLine.Help.HelpAction)
{
    Console.Error.WriteLine("error: name a benchmark: throughput, inspector, stats or find (--help lists their options).");
    return 2;
}

if (parsed.Errors.Count > 0)
{
    foreach (var error in parsed.Errors)
    {
        Console.Error.WriteLine($"error: {error.Message}");
    }

    return 2;
}

return await parsed.InvokeAsync();

async Task<int> ThroughputAsync(int events, int runs, bool quality, IReadOnlySet<string> shapes)
{
    var postgres = Environment.GetEnvironmentVariable("DC_BENCH_POSTGRES");
    Console.WriteLine($"throughput: {events} events per run, {runs} runs, {Environment.ProcessorCount} cores, .NET {Environment.Version}, "
        + (postgres is null ? "SQLite" : $"PostgreSQL ({Nodes()} node(s) on one database)"));

    await using var receiver = await Receiver.StartAsync();
    var results = new List<(double Engine, double Batch, double Raw, double DefaultLane, double SixteenEndpoints)>();
    var sqliteBeside = new List<double>();
    for (var run = 1; run <= runs; run++)
    {
        var raw = await RawHttpAsync(receiver.Url, Math.Max(events, 20_000));
        // A shape left out (--shapes) reads as NaN.
        var engine = shapes.Contains("single") ? await EngineAsync(receiver, events, batch: false) : double.NaN;
        // The same single-event run with the console's default lane (8 sends in flight per endpoint),
        // right after it: the ratio of a pair run back to back holds better than either figure.
        var defaultLane = shapes.Contains("default") ? await EngineAsync(receiver, events, batch: false, defaultLane: true) : double.NaN;
        var batch = shapes.Contains("batch") ? await EngineAsync(receiver, events, batch: true) : double.NaN;
        // 16 endpoints at the default lane: 128 sends may be in flight, more than the publishers' 64.
        var sixteen = shapes.Contains("sixteen") ? await EngineAsync(receiver, events, batch: false, defaultLane: true, endpoints: 16) : double.NaN;
        results.Add((engine, batch, raw, defaultLane, sixteen));
        Console.WriteLine($"run {run}: single-event HTTP {engine:F0} deliveries/s, batch route {batch:F0} deliveries/s, raw HttpClient {raw:F0} POSTs/s, ratios {engine / raw:P2} / {batch / raw:P2}; "
            + $"default lane (8) single-event {defaultLane:F0}/s ({defaultLane / engine:P0} of lane 64), 16 endpoints at the default lane {sixteen:F0}/s");
        if (postgres is not null && shapes.Contains("sqlite"))
        {
            // The same single-event run on SQLite in the same minute: the providers' ratio holds better than either figure.
            Environment.SetEnvironmentVariable("DC_BENCH_POSTGRES", null);
            var sqlite = await EngineAsync(receiver, events, batch: false);
            Environment.SetEnvironmentVariable("DC_BENCH_POSTGRES", postgres);
            sqliteBeside.Add(sqlite);
            Console.WriteLine($"run {run}: SQLite single-event HTTP beside it {sqlite:F0} deliveries/s; PostgreSQL / SQLite {engine / sqlite:F2}");
        }
    }

    double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    var inProcess = new List<double>();
    for (var run = 1; run <= runs && postgres is null && shapes.Contains("batch"); run++)
    {
        inProcess.Add(await DeliveryConsole.Bench.InProcessBench.RunAsync(receiver.Url, events, () => receiver.Count));
    }

    if (inProcess.Count > 0)
    {
        Console.WriteLine($"in-process publishing (EventService in the console's own process, 500 a batch, 4 in flight): runs {string.Join(", ", inProcess.Select(r => r.ToString("F0")))} deliveries/s, median {Median(inProcess):F0}/s");
    }

    var medianEngine = Median(results.Select(r => r.Engine));
    var medianBatch = Median(results.Select(r => r.Batch));
    var medianRaw = Median(results.Select(r => r.Raw));
    var medianDefaultLane = Median(results.Select(r => r.DefaultLane));
    Console.WriteLine($"median of {runs}: single-event HTTP {medianEngine:F0} deliveries/s, batch route {medianBatch:F0} deliveries/s, raw {medianRaw:F0} POSTs/s, ratios {medianEngine / medianRaw:P2} / {medianBatch / medianRaw:P2}; "
        + $"default lane (8) single-event {medianDefaultLane:F0}/s (median of the runs' ratios to lane 64: {Median(results.Select(r => r.DefaultLane / r.Engine)):P0}), 16 endpoints at the default lane {Median(results.Select(r => r.SixteenEndpoints)):F0}/s");
    if (sqliteBeside.Count > 0)
    {
        Console.WriteLine($"PostgreSQL / SQLite single-event, median of the runs' ratios: {Median(results.Select((r, i) => r.Engine / sqliteBeside[i])):F2} (SQLite median {Median(sqliteBeside):F0}/s)");
    }

    if (quality && postgres is null)
    {
        await QualityAsync(receiver, (int)(medianEngine / 2), medianBatch);
        await RecoveryAsync(receiver);
    }
    return 0;
}

// The ceiling: plain HttpClient POSTs of a similar body to the same receiver, 64 in flight.
static async Task<double> RawHttpAsync(string url, int count)
{
    using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, UseProxy = false });
    var body = JsonSerializer.Serialize(new { id = "evt_bench", type = "call.completed", data = new { call = new { id = "call_bench", duration = 42 } } });
    var next = 0;
    var stopwatch = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
    {
        while (Interlocked.Increment(ref next) <= count)
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await client.PostAsync(url, content);
            response.EnsureSuccessStatusCode();
        }
    }));
    return count / stopwatch.Elapsed.TotalSeconds;
}

// The engine: the real console (Release) on a fresh SQLite file; N events published through
// POST /v1/events (64 in flight) or POST /v1/events/batch (500 a batch, 4 in flight), timed
// until the receiver has every delivery.
static async Task<double> EngineAsync(Receiver receiver, int count, bool batch, bool defaultLane = false, int endpoints = 1)
{
    // One endpoint receives everything here, so its lane's cap is the engine's whole concurrency:
    // raised to the 64 the publishers use, as a platform would for a high-volume receiver (or the default, 8, when asked).
    var (console, http, folder, arguments) = await StartEngineConsoleWithArgumentsAsync(receiver, defaultLane ? [] : ["--Delivery:MaxConcurrencyPerEndpoint=64"]);
    // Several endpoints: applications whose finishedUrl is the receiver (a query string each), events spread over them round-robin, no master webhook.
    BenchRouting.Applications = [];
    if (endpoints > 1)
    {
        (await http.DeleteAsync("/v1/webhooks")).EnsureSuccessStatusCode();
        for (var i = 0; i < endpoints; i++)
        {
            using var created = await http.PostAsync("/v1/applications", Json(new { name = $"bench {i}", finishedUrl = $"{receiver.Url}?lane={i}" }));
            created.EnsureSuccessStatusCode();
            BenchRouting.Applications = [.. BenchRouting.Applications, JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetString()!];
        }
    }

    // More nodes on the same PostgreSQL database, each with its own data folder; publishers alternate between them.
    var others = new List<(Process Console, HttpClient Http, string Folder)>();
    for (var n = 1; n < Nodes(); n++)
    {
        others.Add(await StartAnotherNodeAsync(http, arguments));
    }

    HttpClient[] nodes = [http, .. others.Select(o => o.Http)];
    try
    {
        // Warm-up: a fresh process runs unoptimised (tier-0) code for its first seconds and
        // recompiles hot methods in the background for many more; the figure wanted is the steady
        // state, so rounds of 3,000 events go through, untimed, until the JIT has settled.
        await WarmUpNodesAsync(nodes, () => PublishToAsync(nodes, receiver, 3000, batch));
        var before = receiver.Count;
        var figuresBefore = await ProcessFiguresOfAsync(nodes);
        var engineBefore = await EngineFiguresOfAsync(nodes);
        var server = Environment.GetEnvironmentVariable("DC_BENCH_POSTGRES") is { } postgres ? await DeliveryConsole.Bench.ServerFigures.StartAsync(postgres) : null;
        var stopwatch = Stopwatch.StartNew();
        var published = await PublishToAsync(nodes, receiver, count, batch);
        var elapsed = stopwatch.Elapsed;
        var figuresAfter = await ProcessFiguresOfAsync(nodes);
        var engineAfter = await EngineFiguresOfAsync(nodes);
        var cpuPerDelivery = (figuresAfter.CpuMs - figuresBefore.CpuMs) * 1000 / count;
        var bytesPerDelivery = (figuresAfter.Allocated - figuresBefore.Allocated) / (double)count;
        Console.WriteLine($"  {(batch ? "batch route" : "single-event HTTP")}{(defaultLane ? " (default lane)" : "")}{(endpoints > 1 ? $" ({endpoints} endpoints)" : "")}: published {count} events in {published.TotalSeconds:F2} s ({count / published.TotalSeconds:F0}/s); all received after {elapsed.TotalSeconds:F2} s; receiver got {receiver.Count - before}; console CPU {cpuPerDelivery:F0} µs and {bytesPerDelivery / 1024:F1} KB allocated per delivery (gen0/1/2 collections {figuresAfter.Gen0 - figuresBefore.Gen0}/{figuresAfter.Gen1 - figuresBefore.Gen1}/{figuresAfter.Gen2 - figuresBefore.Gen2}; JIT {figuresAfter.JitMs - figuresBefore.JitMs:F0} ms, {figuresAfter.JitMethods - figuresBefore.JitMethods} methods)");
        var e = engineAfter.Zip(engineBefore, (a, b) => (double)(a - b)).ToArray();
        Console.WriteLine($"    engine: {e[0]:F0} writer transactions ({e[1] / Math.Max(1, e[0]):F1} writes each, {e[2]:F0} replayed), {e[3]:F0} claims of {e[4] / Math.Max(1, e[3]):F1} deliveries, "
            + $"{e[5] / count:P0} handed over at publish, {e[6]:F0} record batches of {e[7] / Math.Max(1, e[6]):F1} attempts; "
            + $"sends took {e[9] / Math.Max(1, e[8]):F2} ms each, request to answer ({e[9] / 1000 / elapsed.TotalSeconds:F1} in flight on average)");
        if (server is not null)
        {
            await server.PrintAsync(count, Console.Out);
        }
        return count / elapsed.TotalSeconds;
    }
    finally
    {
        BenchRouting.Applications = [];
        foreach (var other in others)
        {
            await StopEngineConsoleAsync(other.Console, other.Http, other.Folder);
        }

        await StopEngineConsoleAsync(console, http, folder);
    }
}

// How many console nodes share the database (PostgreSQL only; 1 on SQLite).
static int Nodes() => Environment.GetEnvironmentVariable("DC_BENCH_POSTGRES") is null ? 1
    : Math.Max(1, int.TryParse(Environment.GetEnvironmentVariable("DC_BENCH_NODES"), out var n) ? n : 1);

// Another node on the first one's database (PostgreSQL), with its own data folder and port, the same key.
static async Task<(Process Console, HttpClient Http, string Folder)> StartAnotherNodeAsync(HttpClient first, string[] firstArguments)
{
    var folder = Path.Combine(Path.GetTempPath(), $"dc-bench-{Guid.NewGuid():N}");
    Directory.CreateDirectory(folder);
    var port = FreePort();
    string[] arguments = ["--urls", $"http://127.0.0.1:{port}", .. firstArguments.Skip(2).Where(a => !a.StartsWith("--Database:DataFolder=", StringComparison.Ordinal)), $"--Database:DataFolder={folder}"];
    var console = Start(folder, arguments);
    var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    http.DefaultRequestHeaders.Authorization = first.DefaultRequestHeaders.Authorization;
    await WaitHealthyAsync(http);
    return (console, http, folder);
}

// A console (Release) on a fresh SQLite file in its own folder, with an admin key and the
// receiver as its master webhook.
static Task<(Process Console, HttpClient Http, string Folder)> StartEngineConsoleAsync(Receiver receiver, params string[] extra) =>
    StartEngineConsoleWithArgumentsAsync(receiver, extra).ContinueWith(t => (t.Result.Console, t.Result.Http, t.Result.Folder));

static async Task<(Process Console, HttpClient Http, string Folder, string[] Arguments)> StartEngineConsoleWithArgumentsAsync(Receiver receiver, params string[] extra)
{
    var folder = Path.Combine(Path.GetTempPath(), $"dc-bench-{Guid.NewGuid():N}");
    Directory.CreateDirectory(folder);
    var database = Path.Combine(folder, "dc.db");
    var port = FreePort();
    // SQLite: a fresh file in the folder. PostgreSQL: a fresh database on the given server (dropped when the run stops).
    string[] where = Environment.GetEnvironmentVariable("DC_BENCH_POSTGRES") is { } server
        ? ["--Database:Provider=Postgres", $"--Database:ConnectionString={new Npgsql.NpgsqlConnectionStringBuilder(server) { Database = $"dc_bench_{Guid.NewGuid():N}" }}", $"--Database:DataFolder={folder}"]
        : [$"--Database:Path={database}"];
    string[] settings =
    [
        .. where, "--Bootstrap:AdminPassword=Bench-Passw0rd-1", "--Delivery:AllowedPrivateNetworks=127.0.0.1/32",
        "--RateLimit:PermitLimit=1000000", "--Logging:LogLevel:Default=Warning", .. extra,
    ];
    var key = (await RunAsync(folder, ["keys", "create", "--role", "admin", .. settings])).Trim();
    string[] arguments = ["--urls", $"http://127.0.0.1:{port}", .. settings];
    var console = Start(folder, arguments);
    var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
    http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
    await WaitHealthyAsync(http);
    (await http.PostAsync("/v1/webhooks", Json(new { url = receiver.Url }))).EnsureSuccessStatusCode();
    return (console, http, folder, arguments);
}

static async Task StopEngineConsoleAsync(Process console, HttpClient http, string folder)
{
    http.Dispose();
    console.Kill(entireProcessTree: true);
    await console.WaitForExitAsync();
    console.Dispose();
    SqliteConnection.ClearAllPools();
    try
    {
        Directory.Delete(folder, recursive: true);
    }
    catch (IOException)
    {
    }
}

// Memory under the largest bodies the console takes: three batches at once of each shape (four
// events of nearly 1 MiB, a thousand events of 4 KiB, and refused ones: one event of 5 MiB, a
// 1.5 MB event among ten), every accepted event delivered to a receiver; the console's resident
// set (VmRSS, sampled every 10 ms) at its peak, against its idle figure after small warm-up batches.
static async Task<int> BatchMemoryAsync(int rounds)
{
    static string Event(int padding) => "{\"eventType\":\"batch.test\",\"payload\":{\"pad\":\"" + new string('x', padding) + "\"}}";
    static StringContent Batch(IEnumerable<string> events) => new("{\"events\":[" + string.Join(",", events) + "]}", Encoding.UTF8, "application/json");
    // The resident set and its file-backed part (SQLite's memory-mapped pages count in VmRSS too).
    static (long Total, long File) Rss(int pid)
    {
        long total = 0, file = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal) || line.StartsWith("RssFile:", StringComparison.Ordinal))
            {
                var value = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
                (total, file) = line[0] == 'V' ? (value, file) : (total, value);
            }
        }

        return (total, file);
    }

    static async Task<(long Allocated, int Gen2)> FiguresAsync(HttpClient http)
    {
        var root = JsonDocument.Parse(await http.GetStringAsync("/v1/system/process")).RootElement;
        return (root.GetProperty("allocatedBytes").GetInt64(), root.GetProperty("gen2Collections").GetInt32());
    }

    var overhead = Encoding.UTF8.GetByteCount(Event(0));
    var shapes = new (string Name, Func<StringContent> Body, int Deliveries, HttpStatusCode Expected)[]
    {
        ("four events of 1 MiB (4 MiB)", () => Batch(Enumerable.Range(0, 4).Select(_ => Event(1024 * 1024 - overhead - 8))), 4, HttpStatusCode.Accepted),
        ("1,000 events of 4 KiB (4 MB)", () => Batch(Enumerable.Range(0, 1000).Select(_ => Event(4000))), 1000, HttpStatusCode.Accepted),
        ("one event of 5 MiB (refused)", () => Batch([Event(5 * 1024 * 1024)]), 0, HttpStatusCode.RequestEntityTooLarge),
        ("a 1.5 MB event among ten (refused)", () => Batch(Enumerable.Range(0, 10).Select(i => Event(i == 3 ? 1_500_000 : 100))), 0, HttpStatusCode.RequestEntityTooLarge),
    };
    Console.WriteLine($"batch-memory: {Environment.ProcessorCount} cores, a fresh console per shape, {rounds} rounds of three batches at once; the console's resident set (VmRSS, sampled every 10 ms) at its peak above idle");
    var worst = 0L;
    foreach (var shape in shapes)
    {
        await using var receiver = await Receiver.StartAsync();
        var (console, http, folder) = await StartEngineConsoleAsync(receiver);
        try
        {
            async Task DeliveredAsync(long count)
            {
                var deadline = DateTime.UtcNow.AddMinutes(5);
                while (receiver.Count < count && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(20);
                }
            }

            // Warm-up with small batches (the code paths JIT-compiled, pools made), then idle.
            var expected = 0L;
            for (var i = 0; i < 5; i++)
            {
                (await http.PostAsync("/v1/events/batch", Batch(Enumerable.Range(0, 50).Select(_ => Event(2000))))).EnsureSuccessStatusCode();
                expected += 50;
            }

            await DeliveredAsync(expected);
            await Task.Delay(3000);
            var idleSamples = new List<long>();
            for (var i = 0; i < 20; i++)
            {
                idleSamples.Add(Rss(console.Id).Total);
                await Task.Delay(100);
            }

            var idle = idleSamples.Order().ElementAt(idleSamples.Count / 2);
            var peaks = new List<long>();
            var files = new List<long>();
            var before = await FiguresAsync(http);
            for (var round = 0; round < rounds; round++)
            {
                var peak = 0L;
                var peakFile = 0L;
                using var sampling = new CancellationTokenSource();
                var sampler = Task.Run(async () =>
                {
                    while (!sampling.IsCancellationRequested)
                    {
                        var (total, file) = Rss(console.Id);
                        (peak, peakFile) = total > peak ? (total, file) : (peak, peakFile);
                        await Task.Delay(10);
                    }
                });
                var answers = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => http.PostAsync("/v1/events/batch", shape.Body())));
                if (answers.FirstOrDefault(a => a.StatusCode != shape.Expected) is { } wrong)
                {
                    Console.Error.WriteLine($"error: {shape.Name} answered {(int)wrong.StatusCode}: {await wrong.Content.ReadAsStringAsync()}");
                    return 1;
                }

                expected += 3 * shape.Deliveries;
                await DeliveredAsync(expected);
                await Task.Delay(500);
                sampling.Cancel();
                await sampler;
                peaks.Add(peak - idle);
                files.Add(peakFile);
                await Task.Delay(1000);
            }

            var after = await FiguresAsync(http);
            worst = Math.Max(worst, peaks.Max());
            Console.WriteLine($"  {shape.Name}: idle {idle / 1048576.0:N0} MB; peaks {string.Join(" / ", peaks.Select(p => $"{p / 1048576.0:N0}"))} MB above idle (file-backed at each peak {string.Join(" / ", files.Select(p => $"{p / 1048576.0:N0}"))} MB); "
                + $"allocated {(after.Allocated - before.Allocated) / 1048576.0 / rounds / 3:N0} MB per batch, {after.Gen2 - before.Gen2} gen2 collections");
        }
        finally
        {
            await StopEngineConsoleAsync(console, http, folder);
        }
    }

    Console.WriteLine($"  worst: {worst / 1048576.0:N0} MB above idle");
    return 0;
}

// Latency and politeness, on a console whose first retry comes after exactly 1 s (no jitter):
// commit-to-first-POST at half the measured single-event maximum, retry lateness, and batch
// throughput while 8 readers page the deliveries list and read the stats.
static async Task QualityAsync(Receiver receiver, int rate, double unloadedBatch)
{
    var (console, http, folder) = await StartEngineConsoleAsync(receiver, "--Delivery:RetryDelays=00:00:01,00:00:01", "--Delivery:Jitter=0", "--Delivery:MaxConcurrencyPerEndpoint=64");
    try
    {
        await PublishAsync(http, receiver, 3000, batch: false);

        // Commit to first POST, at a steady half load.
        rate = Math.Max(50, rate);
        var acks = await PacedAsync(http, receiver, rate, TimeSpan.FromSeconds(10), failFirst: false);
        var latencies = acks.Select(a => receiver.Arrivals.TryGetValue(a.Key, out var at) ? Math.Max(0, (at[0] - a.Value).TotalMilliseconds) : double.NaN).Where(l => !double.IsNaN(l)).ToList();
        Console.WriteLine($"commit → first POST at {rate}/s (half the single-event median): p50 {Percentile(latencies, 0.50):F1} ms, p99 {Percentile(latencies, 0.99):F1} ms over {latencies.Count} deliveries");

        // Retry lateness: the first attempt of each of these answers 500; the retry is due 1 s after it.
        receiver.Arrivals.Clear();
        var failing = await PacedAsync(http, receiver, 100, TimeSpan.FromSeconds(5), failFirst: true);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (failing.Keys.Any(id => !receiver.Arrivals.TryGetValue(id, out var at) || at.Count < 2) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        var lateness = failing.Keys.Select(id => receiver.Arrivals.TryGetValue(id, out var at) && at.Count >= 2 ? Math.Max(0, (at[1] - at[0]).TotalMilliseconds - 1000) : double.NaN)
            .Where(l => !double.IsNaN(l)).ToList();
        Console.WriteLine($"retry lateness (due 1 s after the failed attempt): p50 {Percentile(lateness, 0.50):F1} ms, p99 {Percentile(lateness, 0.99):F1} ms over {lateness.Count} retries");
        receiver.Recording = false;
        receiver.Arrivals.Clear();

        // Throughput while 8 readers hammer the deliveries list and the stats, after warm-up rounds
        // with the readers on (their code is as cold as the engine's was, and its JIT fell inside
        // the measure: 14% of the console's CPU there).
        var reads = 0L;
        await WarmUpAsync(http, () => WithReadersAsync(() => PublishAsync(http, receiver, 3000, batch: true)));
        reads = 0;
        var stopwatch = Stopwatch.StartNew();
        await WithReadersAsync(() => PublishAsync(http, receiver, 10_000, batch: true));
        var loaded = 10_000 / stopwatch.Elapsed.TotalSeconds;

        async Task WithReadersAsync(Func<Task> work)
        {
            using var stop = new CancellationTokenSource();
            var readers = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    using var response = await http.GetAsync(i % 2 == 0 ? "/v1/webhooks/deliveries?limit=50" : "/v1/webhooks/deliveries/stats?hours=24");
                    Interlocked.Increment(ref reads);
                }
            })).ToList();
            await work();
            await stop.CancelAsync();
            await Task.WhenAll(readers).ContinueWith(_ => { });
        }

        Console.WriteLine($"batch route while 8 readers read ({reads / stopwatch.Elapsed.TotalSeconds:F0} reads/s): {loaded:F0} deliveries/s, {loaded / unloadedBatch:P0} of unloaded");
    }
    finally
    {
        await StopEngineConsoleAsync(console, http, folder);
    }
}

// Publishes single events at a steady rate for a while; returns each event id with the time its 202 came back.
static async Task<Dictionary<string, DateTime>> PacedAsync(HttpClient http, Receiver receiver, int rate, TimeSpan duration, bool failFirst)
{
    receiver.Recording = true;
    var acks = new System.Collections.Concurrent.ConcurrentDictionary<string, DateTime>();
    var total = (int)(rate * duration.TotalSeconds);
    var stopwatch = Stopwatch.StartNew();
    var inFlight = new List<Task>();
    for (var i = 0; i < total; i++)
    {
        var due = TimeSpan.FromSeconds(i / (double)rate);
        if (due > stopwatch.Elapsed)
        {
            await Task.Delay(due - stopwatch.Elapsed);
        }

        inFlight.Add(Task.Run(async () =>
        {
            using var response = await http.PostAsync("/v1/events", Json(new { eventType = "call.completed", payload = new { fail_first = failFirst, n = 1 } }));
            var at = DateTime.UtcNow;
            using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            acks[body.RootElement.GetProperty("eventId").GetString()!] = at;
        }));
    }

    await Task.WhenAll(inFlight);
    var deadline = DateTime.UtcNow.AddSeconds(30);
    while (acks.Keys.Any(id => !receiver.Arrivals.ContainsKey(id)) && DateTime.UtcNow < deadline)
    {
        await Task.Delay(50);
    }

    return new Dictionary<string, DateTime>(acks);
}

static double Percentile(List<double> values, double p)
{
    if (values.Count == 0)
    {
        return double.NaN;
    }

    var sorted = values.Order().ToList();
    return sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];
}

// Publishes count events and waits until the receiver has count more requests; returns the time the publishing took.
static Task<TimeSpan> PublishAsync(HttpClient http, Receiver receiver, int count, bool batch) => PublishToAsync([http], receiver, count, batch);

// The same, the publishers spread over several nodes (each publisher keeps to one).
static async Task<TimeSpan> PublishToAsync(HttpClient[] nodes, Receiver receiver, int count, bool batch)
{
    var target = receiver.Count + count;
    var stopwatch = Stopwatch.StartNew();
    var next = 0;
    var size = batch ? 500 : 1;
    await Task.WhenAll(Enumerable.Range(0, batch ? 4 : 64).Select(async publisher =>
    {
        var http = nodes[publisher % nodes.Length];
        while (true)
        {
            var first = Interlocked.Add(ref next, size) - size;
            if (first >= count)
            {
                return;
            }

            var take = Math.Min(size, count - first);
            using var response = batch
                ? await http.PostAsync("/v1/events/batch", Json(new { events = Enumerable.Range(0, take).Select(_ => Event()) }))
                : await http.PostAsync("/v1/events", Json(Event()));
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                throw new InvalidOperationException($"publish failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }
    }));
    var published = stopwatch.Elapsed;

    var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
    while (receiver.Count < target)
    {
        if (DateTime.UtcNow > deadline)
        {
            throw new TimeoutException($"only {count - (target - receiver.Count)} of {count} received");
        }

        await Task.Delay(10);
    }

    return published;

    static object Event() => BenchRouting.Applications.Length == 0
        ? new { eventType = "call.completed", payload = new { call = new { id = "call_bench", duration = 42 } } }
        : new { eventType = "call.completed", applicationId = BenchRouting.Next(), payload = new { call = new { id = "call_bench", duration = 42 } } };
}

// The console's own account of its CPU time, allocations and JIT (GET /v1/system/process, admin key).
static async Task<(double CpuMs, long Allocated, int Gen0, int Gen1, int Gen2, long JitMethods, double JitMs)> ProcessFiguresOfAsync(HttpClient[] nodes)
{
    var all = await Task.WhenAll(nodes.Select(ProcessFiguresAsync));
    return (all.Sum(f => f.CpuMs), all.Sum(f => f.Allocated), all.Sum(f => f.Gen0), all.Sum(f => f.Gen1), all.Sum(f => f.Gen2), all.Sum(f => f.JitMethods), all.Sum(f => f.JitMs));
}

// The engine's counters (GET /v1/system/process, "engine"), summed over the nodes, in EngineFigures' order.
static async Task<long[]> EngineFiguresOfAsync(HttpClient[] nodes)
{
    var all = await Task.WhenAll(nodes.Select(async http =>
    {
        using var figures = JsonDocument.Parse(await http.GetStringAsync("/v1/system/process"));
        var engine = figures.RootElement.GetProperty("engine");
        return new[] { "writerBatches", "writerWrites", "writerReplays", "claims", "claimed", "handedOver", "recordBatches", "recordedAttempts", "sends", "sendMs" }
            .Select(name => engine.GetProperty(name).GetInt64()).ToArray();
    }));
    return Enumerable.Range(0, 10).Select(i => all.Sum(a => a[i])).ToArray();
}

static async Task<(double CpuMs, long Allocated, int Gen0, int Gen1, int Gen2, long JitMethods, double JitMs)> ProcessFiguresAsync(HttpClient http)
{
    using var figures = JsonDocument.Parse(await http.GetStringAsync("/v1/system/process"));
    var root = figures.RootElement;
    return (root.GetProperty("processorTimeMs").GetDouble(), root.GetProperty("allocatedBytes").GetInt64(),
        root.GetProperty("gen0Collections").GetInt32(), root.GetProperty("gen1Collections").GetInt32(), root.GetProperty("gen2Collections").GetInt32(),
        root.GetProperty("jitCompiledMethods").GetInt64(), root.GetProperty("jitTimeMs").GetDouble());
}

// Runs warm-up rounds until a round leaves the JIT almost idle (under 20 ms of compilation), at
// least 2 and at most 12 rounds. Each round is followed by a second of quiet: the runtime delays
// its background recompilation of hot methods while new code keeps appearing, so a busy round
// alone can look settled while the work is only postponed.
static Task WarmUpAsync(HttpClient http, Func<Task> round) => WarmUpNodesAsync([http], round);

static async Task WarmUpNodesAsync(HttpClient[] nodes, Func<Task> round)
{
    for (var i = 1; i <= 12; i++)
    {
        var before = await ProcessFiguresOfAsync(nodes);
        await round();
        await Task.Delay(1000);
        var after = await ProcessFiguresOfAsync(nodes);
        if (i >= 2 && after.JitMs - before.JitMs < 20)
        {
            return;
        }
    }
}

// Recovery: a receiver that holds every request open; 2,000 events published and acknowledged, up
// to the lane cap of them in flight and the rest claimed or pending, then the console is killed
// (kill -9) and started again on the same data folder (same node identity). Reported: from the
// moment the restarted console answers until each acknowledged event is received.
static async Task RecoveryAsync(Receiver receiver)
{
    const int Count = 2000;
    receiver.Hold = true;
    var (console, http, folder, arguments) = await StartEngineConsoleWithArgumentsAsync(receiver, "--Delivery:MaxConcurrencyPerEndpoint=64");
    try
    {
        var acked = new System.Collections.Concurrent.ConcurrentBag<string>();
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 64).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= Count)
            {
                using var response = await http.PostAsync("/v1/events", Json(new { eventType = "call.completed", payload = new { n = 1 } }));
                using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                acked.Add(body.RootElement.GetProperty("eventId").GetString()!);
            }
        }));
        var holdDeadline = DateTime.UtcNow.AddSeconds(30);
        while (receiver.HeldCount < 64 && DateTime.UtcNow < holdDeadline)
        {
            await Task.Delay(20);
        }

        var held = receiver.HeldCount;
        console.Kill(entireProcessTree: true);
        await console.WaitForExitAsync();
        console.Dispose();
        receiver.Hold = false;
        receiver.Arrivals.Clear();
        receiver.Recording = true;

        var restartedAt = Stopwatch.StartNew();
        console = Start(folder, arguments);
        await WaitHealthyAsync(http);
        var answeredAt = DateTime.UtcNow;
        var startup = restartedAt.Elapsed;
        var deadline = DateTime.UtcNow.AddMinutes(4);
        while (acked.Any(id => !receiver.Arrivals.ContainsKey(id)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }

        var waits = acked.Select(id => receiver.Arrivals.TryGetValue(id, out var at) ? Math.Max(0, (at[0] - answeredAt).TotalMilliseconds) : double.NaN).ToList();
        var missing = waits.Count(double.IsNaN);
        var received = waits.Where(w => !double.IsNaN(w)).ToList();
        Console.WriteLine($"recovery after kill -9 ({held} requests in flight, {Count} acknowledged, none answered): restarted console answered after {startup.TotalSeconds:F1} s; "
            + $"then every acknowledged event received within p50 {Percentile(received, 0.5):F0} ms, max {(received.Count > 0 ? received.Max() : double.NaN):F0} ms; {missing} not received within 4 min");
    }
    finally
    {
        receiver.Recording = false;
        receiver.Arrivals.Clear();
        await StopEngineConsoleAsync(console, http, folder);
    }
}

static StringContent Json(object value) => new(JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");

static async Task WaitHealthyAsync(HttpClient http)
{
    for (var i = 0; i < 300; i++)
    {
        try
        {
            if ((await http.GetAsync("/healthz")).IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
        }

        await Task.Delay(100);
    }

    throw new TimeoutException("the console did not start");
}

static string ConsoleAssembly()
{
    var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
    return Path.Combine(DeliveryConsole.Bench.Repository.Root(), "Console", "bin", configuration, "net10.0", "DeliveryConsole.dll");
}

static Process Start(string folder, string[] arguments)
{
    var start = new ProcessStartInfo("dotnet") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
    start.ArgumentList.Add(ConsoleAssembly());
    foreach (var argument in arguments)
    {
        start.ArgumentList.Add(argument);
    }

    var process = Process.Start(start)!;
    // DC_BENCH_CONSOLE_LOG=FILE keeps the consoles' own log there (by default it is dropped).
    var log = Environment.GetEnvironmentVariable("DC_BENCH_CONSOLE_LOG");
    process.OutputDataReceived += (_, e) =>
    {
        if (log is not null && e.Data is not null)
        {
            lock (typeof(Process))
            {
                File.AppendAllText(log, e.Data + Environment.NewLine);
            }
        }
    };
    process.ErrorDataReceived += (_, e) => { if (e.Data is not null) Console.Error.WriteLine("  console: " + e.Data); };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    return process;
}

static async Task<string> RunAsync(string folder, string[] arguments)
{
    var start = new ProcessStartInfo("dotnet") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
    start.ArgumentList.Add(ConsoleAssembly());
    foreach (var argument in arguments)
    {
        start.ArgumentList.Add(argument);
    }

    using var process = Process.Start(start)!;
    var output = await process.StandardOutput.ReadToEndAsync();
    await process.StandardError.ReadToEndAsync();
    await process.WaitForExitAsync();
    return process.ExitCode == 0 ? output : throw new InvalidOperationException("keys create failed");
}

static int FreePort()
{
    using var listener = new TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

/// <summary>A customer endpoint that answers 200 at once: Kestrel on 127.0.0.1.</summary>
internal sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _count;

    /// <summary>When each message (webhook-id) arrived, every attempt; kept only while <see cref="Recording"/>.</summary>
    public System.Collections.Concurrent.ConcurrentDictionary<string, List<DateTime>> Arrivals { get; } = new();

    public bool Recording { get; set; }

    /// <summary>While set, requests are held open and never answered (the recovery measure kills the console meanwhile).</summary>
    public bool Hold { get; set; }

    private int _held;

    public int HeldCount => Volatile.Read(ref _held);

    private Receiver(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";

    public long Count => Interlocked.Read(ref _count);

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new Receiver(app);
        app.MapPost("/hooks", async (HttpContext context) =>
        {
            var at = DateTime.UtcNow;
            if (receiver.Hold)
            {
                Interlocked.Increment(ref receiver._held);
                try
                {
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                }
                finally
                {
                    Interlocked.Decrement(ref receiver._held);
                }

                return Results.StatusCode(503);
            }

            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            var first = true;
            if (receiver.Recording)
            {
                var arrivals = receiver.Arrivals.GetOrAdd(context.Request.Headers["webhook-id"].ToString(), _ => []);
                lock (arrivals)
                {
                    first = arrivals.Count == 0;
                    arrivals.Add(at);
                }
            }

            // Events marked fail_first get a 500 on their first attempt, to measure how late the retry comes.
            if (first && body.Contains("\"fail_first\":true", StringComparison.Ordinal))
            {
                return Results.StatusCode(500);
            }

            Interlocked.Increment(ref receiver._count);
            return Results.Ok();
        });
        await app.StartAsync();
        receiver.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hooks";
        return receiver;
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}

/// <summary>Where the benchmark's events go when several endpoints take them: applications, round-robin.</summary>
static class BenchRouting
{
    private static int _next;

    public static string[] Applications { get; set; } = [];

    public static string Next() => Applications[(int)((uint)Interlocked.Increment(ref _next) % Applications.Length)];
}
