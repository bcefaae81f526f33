using System.Net.Http.Headers;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Workspaces;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>
/// The real app on a real database in a fresh folder (a SQLite file, or a PostgreSQL database:
/// <see cref="TestProvider"/>), hosted in memory. One per test class
/// (xunit class fixture); helpers create workspaces, keys and clients.
/// </summary>
public class ConsoleAppFactory : WebApplicationFactory<Program>
{
    public const string AdminEmail = "admin@console.local";
    public const string AdminPassword = "Test-Admin-Passw0rd";

    private readonly TempFolder _folder = new("dc-app");

    /// <summary>Set by a factory that runs as a second host on another factory's database.</summary>
    protected string? SharedDatabasePath { get; init; }

    public string DatabasePath => SharedDatabasePath ?? _folder.File("dc.db");

    /// <summary>Extra configuration for a test class, e.g. a tiny rate limit.</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("urls", "http://127.0.0.1:0");
        foreach (var (key, value) in TestProvider.SettingsFor(DatabasePath))
        {
            builder.UseSetting(key, value);
        }

        builder.UseSetting("Bootstrap:AdminEmail", AdminEmail);
        builder.UseSetting("Bootstrap:AdminPassword", AdminPassword);
        builder.UseSetting("Jobs:WorkerCount", "2");
        foreach (var (key, value) in Settings)
        {
            builder.UseSetting(key, value);
        }
    }

    public T Service<T>() where T : notnull => Services.GetRequiredService<T>();

    public async Task<AppDbContext> DbAsync() => await Service<IDbContextFactory<AppDbContext>>().CreateDbContextAsync();

    /// <summary>A new key in the named workspace (created when missing).</summary>
    public async Task<(string Key, Guid WorkspaceId)> CreateKeyAsync(Role role, string workspace = "Default")
    {
        var (key, ws, _) = await Service<ApiKeyService>().CreateFromCommandLineAsync(workspace, role, $"test {role}");
        return (key.PlainTextKey, ws.Id);
    }

    public HttpClient ClientWithKey(string key)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    public async Task<HttpClient> ClientAsync(Role role, string workspace = "Default") => ClientWithKey((await CreateKeyAsync(role, workspace)).Key);

    /// <summary>A completed call of the workspace, as an event's callId must name one of the caller's calls.</summary>
    public async Task<string> AddCallAsync(Guid workspaceId, string? id = null)
    {
        await using var db = await DbAsync();
        var now = DateTime.UtcNow;
        var call = new DeliveryConsole.Features.Calls.Call
        {
            Id = id ?? DeliveryConsole.Features.Calls.Call.NewId(),
            WorkspaceId = workspaceId,
            Status = DeliveryConsole.Features.Calls.CallStatus.Completed,
            Direction = "OUTBOUND",
            ToNumber = "+12015550100",
            EventPublishedAt = now,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Calls.Add(call);
        await db.SaveChangesAsync();
        return call.Id;
    }

    public async Task<Caller> SystemCallerAsync(string workspace = "Default")
    {
        var (ws, _) = await Service<WorkspaceService>().EnsureAsync(workspace);
        return Caller.System(ws.Id, "test");
    }

    private bool _keepData;

    /// <summary>Stops the host (as a crash or restart would) but leaves its database for the next host.</summary>
    public async Task DisposeAsyncKeepingData()
    {
        _keepData = true;
        await DisposeAsync();
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && !_keepData && SharedDatabasePath is null)
        {
            _folder.Dispose();
        }
    }
}
