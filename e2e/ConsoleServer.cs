using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace DeliveryConsole.E2E;

/// <summary>
/// The real console as its own process, on a free 127.0.0.1 port, with a fresh data folder.
/// Stopped (and its folder removed) on dispose.
/// </summary>
public sealed class ConsoleServer : IAsyncDisposable
{
    public const string AdminEmail = "admin@console.local";
    public const string AdminPassword = "E2E-Admin-Passw0rd";

    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private ConsoleServer(Process process, string baseUrl, string dataFolder)
    {
        _process = process;
        BaseUrl = baseUrl;
        DataFolder = dataFolder;
    }

    public string BaseUrl { get; }

    public string DataFolder { get; }

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

    public static async Task<ConsoleServer> StartAsync(params string[] extraArgs)
    {
        var port = FreePort();
        var dataFolder = Path.Combine(Path.GetTempPath(), $"dc-e2e-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dataFolder);
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = dataFolder,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(AppAssembly());
        foreach (var arg in new[]
                 {
                     "--urls", $"http://127.0.0.1:{port}",
                     // Links the console hands out (portal, saved views, inboxes) name where it really is.
                     $"--Delivery:PublicBaseUrl=http://127.0.0.1:{port}",
                     $"--Database:Path={Path.Combine(dataFolder, "dc.db")}",
                     $"--Bootstrap:AdminEmail={AdminEmail}",
                     $"--Bootstrap:AdminPassword={AdminPassword}",
                     // The tests' webhook receiver listens on loopback; retries are quick.
                     "--Delivery:AllowedPrivateNetworks=127.0.0.1/32",
                     "--Delivery:RetryDelays=00:00:01,00:00:01",
                     "--Delivery:Jitter=0",
                     // Simulated calls are answered within a second and stay live for two minutes.
                     "--Telephony:RingSeconds=0.5",
                     "--Telephony:AnswerProbability=1",
                     "--Telephony:MinDurationSeconds=120",
                     "--Telephony:MaxDurationSeconds=120",
                 }.Concat(extraArgs))
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start the console");
        var server = new ConsoleServer(process, $"http://127.0.0.1:{port}", dataFolder);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        await server.WaitUntilHealthyAsync(TimeSpan.FromSeconds(60));
        return server;
    }

    /// <summary>An API client with a new key of <paramref name="role"/>, made by the console's own <c>keys create</c> verb.</summary>
    public async Task<HttpClient> ApiClientAsync(string role, string name, string? workspace = null)
    {
        var output = workspace is null
            ? await RunCommandAsync("keys", "create", "--role", role, "--name", name)
            : await RunCommandAsync("keys", "create", "--role", role, "--name", name, "--workspace", workspace);
        var client = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", output.Split('\n').Select(l => l.Trim()).Single(l => l.StartsWith("dck_")));
        return client;
    }

    /// <summary>Runs a verb of the same executable against this server's database.</summary>
    public async Task<string> RunCommandAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = DataFolder, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(AppAssembly());
        // The server's own settings for what a verb writes (the demo seed's inbox URLs under the public base URL).
        foreach (var arg in args.Append($"--Database:Path={Path.Combine(DataFolder, "dc.db")}").Append($"--Delivery:PublicBaseUrl={BaseUrl}"))
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        // Both streams at once: a verb that fills one pipe while the other is read would wait forever.
        var outputRead = process.StandardOutput.ReadToEndAsync();
        var errorRead = process.StandardError.ReadToEndAsync();
        var (output, error) = (await outputRead, await errorRead);
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"command failed ({process.ExitCode}): {error}");
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

    private async Task WaitUntilHealthyAsync(TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the console exited with {_process.ExitCode}:\n{Log}");
            }

            try
            {
                if ((await http.GetAsync($"{BaseUrl}/healthz")).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"the console did not become healthy in {timeout}:\n{Log}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Console/bin/&lt;same configuration&gt;/net10.0/DeliveryConsole.dll of this checkout.</summary>
    private static string AppAssembly()
    {
        var baseDir = AppContext.BaseDirectory;
        var configuration = baseDir.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";
        var dir = new DirectoryInfo(baseDir);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "DeliveryConsole.sln")))
        {
            dir = dir.Parent;
        }

        var path = Path.Combine(dir?.FullName ?? throw new InvalidOperationException("DeliveryConsole.sln not found above " + baseDir),
            "Console", "bin", configuration, "net10.0", "DeliveryConsole.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("build the Console project first", path);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(DataFolder, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
