using System.Diagnostics;
using System.Net.Http.Headers;

namespace DeliveryConsole.Bench;

/// <summary>
/// The built console as its own process on a seeded file, for the benchmarks that call it over
/// HTTP: a viewer key made with its CLI (which also applies pending migrations), then the web
/// console on a free loopback port, stopped when disposed.
/// </summary>
public sealed class BenchConsole : IAsyncDisposable
{
    private readonly Process _process;

    private BenchConsole(Process process, HttpClient http)
    {
        _process = process;
        Http = http;
    }

    /// <summary>A client with the viewer key, its base address the console.</summary>
    public HttpClient Http { get; }

    private static string[] Settings(BenchDatabase database) =>
        [.. database.ConsoleArgs, "--Bootstrap:AdminPassword=Bench-Passw0rd-1", "--RateLimit:PermitLimit=1000000", "--Logging:LogLevel:Default=Warning"];

    private static string Folder(BenchDatabase database) => database.WorkingFolder;

    /// <summary>A new viewer key for the file's default workspace.</summary>
    public static async Task<string> CreateKeyAsync(BenchDatabase database, string consoleAssembly, string name) =>
        (await RunToEndAsync(consoleAssembly, Folder(database), ["keys", "create", "--role", "viewer", "--name", name, .. Settings(database)])).Trim().Split('\n')[^1].Trim();

    /// <summary>Starts the console on the file and waits until it answers /healthz.</summary>
    public static async Task<BenchConsole> StartAsync(BenchDatabase database, string key, string consoleAssembly, int port)
    {
        var process = Process.Start(Start(consoleAssembly, Folder(database), ["--urls", $"http://127.0.0.1:{port}", .. Settings(database)]))!;
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var console = new BenchConsole(process, http);
        try
        {
            await WaitHealthyAsync(http);
            return console;
        }
        catch
        {
            await console.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _process.Dispose();
    }

    private static ProcessStartInfo Start(string assembly, string folder, string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(assembly);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    private static async Task<string> RunToEndAsync(string assembly, string folder, string[] arguments)
    {
        using var process = Process.Start(Start(assembly, folder, arguments))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return process.ExitCode == 0 ? await output : throw new InvalidOperationException($"console exited {process.ExitCode}: {await error}");
    }

    private static async Task WaitHealthyAsync(HttpClient http)
    {
        var deadline = DateTime.UtcNow.AddMinutes(15);
        while (DateTime.UtcNow < deadline)
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

            await Task.Delay(200);
        }

        throw new TimeoutException("the console did not start");
    }
}
