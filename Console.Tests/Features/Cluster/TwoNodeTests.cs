using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Tests.Infrastructure;
using Npgsql;
using Xunit.Abstractions;

namespace DeliveryConsole.Tests.Features.Cluster;

/// <summary>
/// Two console processes on one PostgreSQL database, as operators run them behind a load
/// balancer: every event published to either is received, exactly once while both live; after a
/// kill -9 of one, nothing acknowledged is lost and the survivor finishes; a callback scheduled
/// through the dead node is dispatched once by the other.
/// </summary>
public sealed class TwoNodeTests(ITestOutputHelper output)
{
    private const int Events = 10_000;
    private const int BatchSize = 500;

    private sealed class Cluster : IAsyncDisposable
    {
        public required TempFolder Folder { get; init; }

        public required string ConnectionString { get; init; }

        public required NodeProcess A { get; init; }

        public required NodeProcess B { get; init; }

        public required string Key { get; init; }

        public static async Task<Cluster> StartAsync(params string[] more)
        {
            var folder = new TempFolder("dc-cluster");
            var connectionString = TestProvider.ConnectionStringFor(folder.File("dc.db"));
            var args = NodeProcess.ClusterArgs(connectionString, more);
            // Both start together: they take turns migrating and creating the first admin.
            var a = NodeProcess.StartAsync(folder.File("a"), args);
            var b = NodeProcess.StartAsync(folder.File("b"), args);
            try
            {
                await Task.WhenAll(a, b);
                var key = await NodeProcess.RunVerbAsync(folder.File("cli"), ["keys", "create", "--role", "admin", .. args]);
                return new Cluster { Folder = folder, ConnectionString = connectionString, A = await a, B = await b, Key = key.Split('\n')[^1].Trim() };
            }
            catch
            {
                // Whatever started is stopped: no node outlives a failed test.
                foreach (var node in new[] { a, b }.Where(t => t.IsCompletedSuccessfully))
                {
                    await node.Result.DisposeAsync();
                }

                folder.Dispose();
                throw;
            }
        }

        public HttpClient Client(NodeProcess node)
        {
            var client = new HttpClient { BaseAddress = new Uri(node.BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
            return client;
        }

        public async ValueTask DisposeAsync()
        {
            await A.DisposeAsync();
            await B.DisposeAsync();
            Folder.Dispose();
        }
    }

    /// <summary>Publishes <see cref="Events"/> events in batches, alternately to the nodes given; returns the acknowledged event ids.</summary>
    private static async Task<ConcurrentBag<string>> PublishAsync(Func<int, HttpClient?> clientFor, Action<int>? afterBatch = null)
    {
        var acknowledged = new ConcurrentBag<string>();
        var batches = Enumerable.Range(0, Events / BatchSize).ToList();
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (batch, _) =>
        {
            var client = clientFor(batch);
            if (client is null)
            {
                return;
            }

            var events = Enumerable.Range(0, BatchSize).Select(i => new { eventType = "call.completed", payload = new { batch, i } });
            try
            {
                var response = await client.PostAsJsonAsync("/v1/events/batch", new { events });
                if (response.StatusCode == HttpStatusCode.Accepted)
                {
                    var body = await response.Content.ReadFromJsonAsync<JsonElement>();
                    foreach (var e in body.GetProperty("events").EnumerateArray())
                    {
                        acknowledged.Add(e.GetProperty("eventId").GetString()!);
                    }
                }
            }
            catch (HttpRequestException)
            {
                // The node died under the request: not acknowledged, so not owed.
            }

            afterBatch?.Invoke(batch);
        });
        return acknowledged;
    }

    private static async Task<Dictionary<string, int>> WaitForAsync(Receiver receiver, IReadOnlyCollection<string> expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var wanted = expected.ToHashSet();
        while (true)
        {
            var received = receiver.Requests.GroupBy(r => r.Headers["webhook-id"]).ToDictionary(g => g.Key, g => g.Count());
            if (wanted.All(received.ContainsKey) || DateTime.UtcNow > deadline)
            {
                return received;
            }

            await Task.Delay(250);
        }
    }

    [PostgresFact]
    public async Task Ten_thousand_events_published_to_two_nodes_are_each_received_exactly_once()
    {
        await using var receiver = await Receiver.StartAsync();
        await using var cluster = await Cluster.StartAsync();
        using var a = cluster.Client(cluster.A);
        using var b = cluster.Client(cluster.B);
        (await a.PostAsJsonAsync("/v1/webhooks", new { url = receiver.Url })).EnsureSuccessStatusCode();

        var clock = Stopwatch.StartNew();
        var acknowledged = await PublishAsync(batch => batch % 2 == 0 ? a : b);
        Assert.Equal(Events, acknowledged.Count);
        var received = await WaitForAsync(receiver, acknowledged, TimeSpan.FromSeconds(120));
        output.WriteLine($"{acknowledged.Count} acknowledged, {received.Count} received, {received.Values.Sum() - received.Count} duplicates in {clock.Elapsed.TotalSeconds:F1} s");

        var missing = acknowledged.Count(id => !received.ContainsKey(id));
        Assert.True(missing == 0, $"{missing} acknowledged events were never received");
        var twice = received.Count(r => r.Value > 1);
        Assert.True(twice == 0, $"{twice} events were received more than once");
        Assert.Equal(Events, received.Count);
    }

    [PostgresFact]
    public async Task After_a_kill_9_of_one_node_nothing_acknowledged_is_lost_and_the_survivor_finishes()
    {
        await using var receiver = await Receiver.StartAsync();
        // The receiver answers slowly enough that the dying node has deliveries in flight.
        receiver.Then(200, TimeSpan.FromMilliseconds(20));
        await using var cluster = await Cluster.StartAsync();
        using var a = cluster.Client(cluster.A);
        using var b = cluster.Client(cluster.B);
        (await a.PostAsJsonAsync("/v1/webhooks", new { url = receiver.Url })).EnsureSuccessStatusCode();

        var published = 0;
        var killedAt = TimeSpan.Zero;
        var clock = Stopwatch.StartNew();
        var acknowledged = await PublishAsync(
            batch => batch % 2 == 0 ? (cluster.A.HasExited ? null : a) : b,
            _ =>
            {
                if (Interlocked.Add(ref published, BatchSize) >= Events / 3 && !cluster.A.HasExited && killedAt == TimeSpan.Zero)
                {
                    killedAt = clock.Elapsed;
                    cluster.A.Kill();
                }
            });
        Assert.True(cluster.A.HasExited);

        var received = await WaitForAsync(receiver, acknowledged, TimeSpan.FromSeconds(120));
        var duplicates = received.Values.Sum() - received.Count;
        var finishedAt = receiver.Requests.Max(r => r.At);
        output.WriteLine($"{acknowledged.Count} acknowledged, {received.Count(r => acknowledged.Contains(r.Key))} of them received, {duplicates} duplicates; " +
            $"killed at {killedAt.TotalSeconds:F1} s, last delivery {(finishedAt - DateTime.UtcNow + clock.Elapsed - killedAt).TotalSeconds:F1} s after the kill");

        var missing = acknowledged.Count(id => !received.ContainsKey(id));
        Assert.True(missing == 0, $"{missing} acknowledged events were never received");
        // Duplicates only for what the dead node had in flight: at most what one node holds at once.
        Assert.InRange(duplicates, 0, 256);
    }

    [PostgresFact]
    public async Task Resends_through_both_nodes_never_make_two_sends_of_one_delivery_at_once()
    {
        await using var receiver = await Receiver.StartAsync();
        // Sends held open by the receiver must not time out (and be retried) while the test waits.
        await using var cluster = await Cluster.StartAsync("--Delivery:Timeout=00:00:30", "--Delivery:Lease=00:01:00");
        using var a = cluster.Client(cluster.A);
        using var b = cluster.Client(cluster.B);
        var application = await (await a.PostAsJsonAsync("/v1/applications", new { name = "held", finishedUrl = receiver.Url })).Content.ReadFromJsonAsync<JsonElement>();
        var applicationId = application.GetProperty("id").GetString();

        async Task RequestsAsync(int count)
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (receiver.Requests.Count < count && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            Assert.Equal(count, receiver.Requests.Count);
        }

        // A resend on B while A's first send is held open: no second send until it is recorded, then exactly one.
        receiver.Hold();
        var published = await (await a.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", applicationId, payload = new { n = 1 } })).Content.ReadFromJsonAsync<JsonElement>();
        var resend = $"/v1/applications/{applicationId}/deliveries/{published.GetProperty("deliveryIds")[0].GetString()}/resend";
        await RequestsAsync(1);
        Assert.Equal(HttpStatusCode.NoContent, (await b.PostAsync(resend, null)).StatusCode);
        await Task.Delay(1000);
        Assert.Single(receiver.Requests);
        receiver.Release();
        await RequestsAsync(2);
        await Task.Delay(1500);
        Assert.Equal(2, receiver.Requests.Count);

        // Twenty resends at once, alternately through A and B, while the resend's send is held: one new send.
        receiver.Hold();
        var answers = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => (i % 2 == 0 ? a : b).PostAsync(resend, null)));
        Assert.All(answers, answer => Assert.Equal(HttpStatusCode.NoContent, answer.StatusCode));
        await RequestsAsync(3);
        receiver.Release();
        await Task.Delay(2000);
        Assert.Equal(3, receiver.Requests.Count);
        Assert.Equal(1, receiver.MaxInFlight);
    }

    [PostgresFact]
    public async Task An_endpoint_changed_on_one_node_is_used_by_the_next_publish_on_the_other()
    {
        await using var first = await Receiver.StartAsync();
        await using var second = await Receiver.StartAsync();
        await using var cluster = await Cluster.StartAsync();
        using var a = cluster.Client(cluster.A);
        using var b = cluster.Client(cluster.B);
        (await a.PostAsJsonAsync("/v1/webhooks", new { url = first.Url })).EnsureSuccessStatusCode();
        // B reads (and keeps) the workspace's endpoints.
        Assert.Equal(HttpStatusCode.Accepted, (await b.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { n = 1 } })).StatusCode);

        // A moves the master webhook; B is told and its next publish goes to the new URL.
        (await a.PostAsJsonAsync("/v1/webhooks", new { url = second.Url })).EnsureSuccessStatusCode();
        await Task.Delay(500);
        Assert.Equal(HttpStatusCode.Accepted, (await b.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { n = 2 } })).StatusCode);

        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (second.Requests.IsEmpty && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        Assert.Contains(second.Requests, r => r.Body.Contains("\"n\":2", StringComparison.Ordinal));
        Assert.DoesNotContain(first.Requests, r => r.Body.Contains("\"n\":2", StringComparison.Ordinal));
    }

    [PostgresFact]
    public async Task A_callback_scheduled_through_a_node_that_dies_is_dispatched_once_by_the_other()
    {
        await using var cluster = await Cluster.StartAsync();
        using var a = cluster.Client(cluster.A);
        using var b = cluster.Client(cluster.B);

        var response = await a.PostAsJsonAsync("/v1/callbacks", new { to_number = "+12015550177", scheduled_at = DateTime.UtcNow.AddSeconds(4) });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        cluster.A.Kill();

        JsonElement callback = default;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            callback = await b.GetFromJsonAsync<JsonElement>($"/v1/callbacks/{id}");
            if (callback.GetProperty("status").GetString() is "dispatched" or "failed")
            {
                break;
            }

            await Task.Delay(250);
        }

        Assert.Equal("dispatched", callback.GetProperty("status").GetString());
        // Exactly once: one call placed to the callback's number.
        await using var connection = new NpgsqlConnection(cluster.ConnectionString);
        await connection.OpenAsync();
        await using var count = new NpgsqlCommand("""SELECT COUNT(*) FROM calls WHERE "ToNumber" = '+12015550177'""", connection);
        Assert.Equal(1L, await count.ExecuteScalarAsync());
        Assert.Equal(callback.GetProperty("created_session_id").GetString(), await new NpgsqlCommand("""SELECT "Id" FROM calls WHERE "ToNumber" = '+12015550177'""", connection).ExecuteScalarAsync());
    }
}
