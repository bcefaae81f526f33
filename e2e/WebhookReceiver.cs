using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace DeliveryConsole.E2E;

/// <summary>A real Kestrel endpoint on 127.0.0.1 that answers webhooks with the status the test sets.</summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private WebhookReceiver(WebApplication app, string url)
    {
        _app = app;
        Url = url;
    }

    public string Url { get; }

    /// <summary>What the next requests get.</summary>
    public int Status { get; set; } = 200;

    public ConcurrentQueue<string> Bodies { get; } = new();

    /// <summary>Each request's webhook-id, webhook-timestamp, webhook-signature and body, in arrival order.</summary>
    public ConcurrentQueue<(string Id, long Timestamp, string Signature, string Body)> Signed { get; } = new();

    public static async Task<WebhookReceiver> StartAsync()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, $"http://127.0.0.1:{port}/hook");
        app.MapPost("/hook", async (HttpContext http) =>
        {
            using var reader = new StreamReader(http.Request.Body);
            var body = await reader.ReadToEndAsync();
            receiver.Bodies.Enqueue(body);
            receiver.Signed.Enqueue((http.Request.Headers["webhook-id"].ToString(), long.TryParse(http.Request.Headers["webhook-timestamp"], out var t) ? t : 0,
                http.Request.Headers["webhook-signature"].ToString(), body));
            http.Response.StatusCode = receiver.Status;
            await http.Response.WriteAsync(receiver.Status < 300 ? "{\"ok\":true}" : "<script>alert('boom')</script> upstream failed");
        });
        await app.StartAsync();
        return receiver;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
