using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>
/// A console node as its own process (the built DeliveryConsole.dll) on a free 127.0.0.1 port, on
/// a shared PostgreSQL database with a data folder of its own: what an operator runs behind a load
/// balancer. <see cref="Kill"/> is kill -9; dispose stops it if it still runs.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private NodeProcess(Process process, string baseUrl)
    {
        _process = process;
        BaseUrl = baseUrl;
    }

    public string BaseUrl { get; }

    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>The settings every node of a test cluster shares: the database and the engine's test timings.</summary>
    public static string[] ClusterArgs(string connectionString, params string[] more) =>
    [
        "--Database:Provider=Postgres",
        $"--Database:ConnectionString={connectionString}",
        "--Bootstrap:AdminPassword=Cluster-Admin-Passw0rd",
        "--Delivery:AllowedPrivateNetworks=127.0.0.1/32",
        "--Delivery:Lease=00:00:05",
        "--Delivery:Timeout=00:00:02",
        "--Delivery:SweepInterval=00:00:01",
        "--Delivery:MaxConcurrencyPerEndpoint=64",
        "--Jobs:InvisibilityTimeout=00:00:05",
        "--Jobs:SchedulePollingInterval=00:00:00.500",
        "--RateLimit:PermitLimit=1000000",
        "--Telephony:RingSeconds=0.2",
        "--Telephony:AnswerProbability=1",
        "--Telephony:MinDurationSeconds=60",
        "--Telephony:MaxDurationSeconds=60",
        .. more,
    ];

    public static async Task<NodeProcess> StartAsync(string dataFolder, IEnumerable<string> args)
    {
        Directory.CreateDirectory(dataFolder);
        var port = FreePort();
        var start = Start(dataFolder, ["--urls", $"http://127.0.0.1:{port}", $"--Database:DataFolder={dataFolder}", .. args]);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start a node");
        var node = new NodeProcess(process, $"http://127.0.0.1:{port}");
        process.OutputDataReceived += (_, e) => node.Append(e.Data);
        process.ErrorDataReceived += (_, e) => node.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The node exited with {process.ExitCode}:\n{node.Log}");
            }

            try
            {
                if ((await http.GetAsync($"{node.BaseUrl}/healthz")).StatusCode == HttpStatusCode.OK)
                {
                    return node;
                }
            }
            catch (Exception exception) when (exception is HttpRequestException or TaskCanceledException)
            {
                // Not listening yet.
            }

            await Task.Delay(200);
        }

        await node.DisposeAsync();
        throw new TimeoutException($"The node did not answer within 90 s:\n{node.Log}");
    }

    /// <summary>Runs a command-line verb of the console (e.g. keys create) and returns its standard output.</summary>
    public static async Task<string> RunVerbAsync(string dataFolder, IEnumerable<string> args)
    {
        Directory.CreateDirectory(dataFolder);
        using var process = Process.Start(Start(dataFolder, [.. args, $"--Database:DataFolder={dataFolder}"]))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"exit {process.ExitCode}: {await error}");
        }

        return (await output).Trim();
    }

    /// <summary>kill -9: the process ends at once, nothing is flushed or released.</summary>
    public void Kill() => _process.Kill(entireProcessTree: true);

    public bool HasExited => _process.HasExited;

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    /// <summary>How the built console is started as a process here (its output read by the caller), logging warnings and errors only.</summary>
    public static ProcessStartInfo Start(string workingDirectory, IEnumerable<string> args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "DeliveryConsole.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        return start;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.AppendLine(line);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
