using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>What the receiver got: headers (lowercased names) and body.</summary>
public sealed record ReceivedRequest(string Path, IReadOnlyDictionary<string, string> Headers, string Body, DateTime At);

/// <summary>
/// A real customer endpoint: Kestrel on a free 127.0.0.1 port. Each request is answered by the
/// scripted responses in order (the last one repeats), optionally after a delay.
/// </summary>
public sealed class Receiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<(int Status, TimeSpan Delay, string Body, string? RetryAfter)> _script = new();
    private (int Status, TimeSpan Delay, string Body, string? RetryAfter) _last = (200, TimeSpan.Zero, """{"ok":true}""", null);

    private Receiver(WebApplication app) => _app = app;

    public ConcurrentQueue<ReceivedRequest> Requests { get; } = new();

    public string Url { get; private set; } = "";

    private TaskCompletionSource? _hold;
    private int _inFlight;
    private int _maxInFlight;

    /// <summary>The most requests this receiver was answering at one moment.</summary>
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    /// <summary>Requests from now on are received (and counted) but not answered until <see cref="Release"/>.</summary>
    public Receiver Hold()
    {
        _hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return this;
    }

    /// <summary>Answers the held requests, and those after them at once.</summary>
    public void Release() => Interlocked.Exchange(ref _hold, null)?.TrySetResult();

    public static async Task<Receiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new Receiver(app);
        app.MapPost("/{**path}", receiver.HandleAsync);
        await app.StartAsync();
        receiver.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hooks";
        return receiver;
    }

    /// <summary>Answers the next requests with these statuses, in order; the last one repeats.</summary>
    public Receiver Respond(params int[] statuses)
    {
        foreach (var status in statuses)
        {
            Then(status);
        }

        return this;
    }

    public Receiver Then(int status, TimeSpan delay = default, string body = """{"ok":true}""", string? retryAfter = null)
    {
        _script.Enqueue((status, delay, body, retryAfter));
        _last = (status, delay, body, retryAfter);
        return this;
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        Requests.Enqueue(new ReceivedRequest(
            context.Request.Path,
            context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString()),
            body,
            DateTime.UtcNow));
        var inFlight = Interlocked.Increment(ref _inFlight);
        try
        {
            for (var seen = Volatile.Read(ref _maxInFlight); inFlight > seen; seen = Volatile.Read(ref _maxInFlight))
            {
                Interlocked.CompareExchange(ref _maxInFlight, inFlight, seen);
            }

            if (_hold is { } hold)
            {
                await hold.Task.WaitAsync(context.RequestAborted);
            }

            await AnswerAsync(context);
        }
        catch (OperationCanceledException)
        {
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }

    private async Task AnswerAsync(HttpContext context)
    {
        var (status, delay, responseBody, retryAfter) = _script.TryDequeue(out var next) ? next : _last;
        if (delay > TimeSpan.Zero)
        {
            try
            {
                await Task.Delay(delay, context.RequestAborted);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        if (retryAfter is not null)
        {
            context.Response.Headers.RetryAfter = retryAfter;
        }

        await context.Response.WriteAsync(responseBody);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
