using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>A telephony provider on a Kestrel port of 127.0.0.1: answers dial/end/join with scripted statuses and records what it was asked.</summary>
public sealed class FakeTelephonyProvider : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<int> _dialStatuses = new();

    private FakeTelephonyProvider(WebApplication app) => _app = app;

    public string Url { get; private set; } = "";

    public ConcurrentQueue<(string Path, string Authorization, string Body)> Requests { get; } = new();

    /// <summary>Statuses for the next dial requests, in order; then 200.</summary>
    public void FailDials(params int[] statuses)
    {
        foreach (var status in statuses)
        {
            _dialStatuses.Enqueue(status);
        }
    }

    public static async Task<FakeTelephonyProvider> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var provider = new FakeTelephonyProvider(app);
        app.MapPost("/tel/{**path}", async (HttpContext http, string path) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            provider.Requests.Enqueue(($"/{path}", http.Request.Headers.Authorization.ToString(), await reader.ReadToEndAsync()));
            if (path == "calls")
            {
                return provider._dialStatuses.TryDequeue(out var status) && status != 200
                    ? Results.Text("{\"error\":\"carrier unavailable\"}", "application/json", statusCode: status)
                    : Results.Json(new { provider_call_id = "prov_" + Guid.NewGuid().ToString("N") });
            }

            return path.EndsWith("/join", StringComparison.Ordinal)
                ? Results.Json(new { join_url = "https://provider.example/join/abc", expires_at = DateTime.UtcNow.AddMinutes(5) })
                : Results.Json(new { ok = true });
        });
        await app.StartAsync();
        provider.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/tel";
        return provider;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
