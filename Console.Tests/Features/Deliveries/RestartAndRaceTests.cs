using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Deliveries;

/// <summary>The database is the queue of record: a restart loses nothing, and two hosts never send one attempt twice.</summary>
public sealed class RestartAndRaceTests
{
    private static async Task<List<string>> PublishAsync(HttpClient client, int count)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var body = await (await client.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { i } })).Content.ReadFromJsonAsync<JsonElement>();
            ids.Add(body.GetProperty("deliveryIds")[0].GetString()!);
        }

        return ids;
    }

    private static async Task<List<Delivery>> WaitUntilFinishedAsync(EngineAppFactory host, int expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            await using var db = await host.DbAsync();
            var all = await db.Deliveries.AsNoTracking().ToListAsync();
            if ((all.Count == expected && all.All(d => d.Status != DeliveryStatus.Pending)) || DateTime.UtcNow > deadline)
            {
                return all;
            }

            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task StoppingTheHostMidBurst_AndStartingANewOne_LosesNothing()
    {
        await using var receiver = await Receiver.StartAsync();
        receiver.Then(200, TimeSpan.FromMilliseconds(150));
        var first = new EngineAppFactory();
        var path = first.DatabasePath;
        var key = (await first.CreateKeyAsync(Role.Admin)).Key;
        var client = first.ClientWithKey(key);
        (await client.PostAsJsonAsync("/v1/webhooks", new { url = receiver.Url })).EnsureSuccessStatusCode();
        await PublishAsync(client, 40);
        await first.DisposeAsyncKeepingData();

        await using var second = EngineAppFactory.OnDatabase(path);
        _ = second.Server;
        var deliveries = await WaitUntilFinishedAsync(second, 40, TimeSpan.FromSeconds(40));

        Assert.Equal(40, deliveries.Count);
        Assert.All(deliveries, d => Assert.Equal(DeliveryStatus.Delivered, d.Status));
        Assert.All(deliveries, d => Assert.Null(d.LeaseOwner));
        await using var db = await second.DbAsync();
        // Attempts cut short by the stop were not recorded: every delivery has exactly its successful attempt, plus at most the ones that completed before it.
        Assert.Equal(40, await db.DeliveryAttempts.CountAsync(a => a.ResponseStatus == 200));
    }

    [Fact]
    public async Task TwoHostsOnOneDatabase_NeverSendTheSameAttemptTwice()
    {
        await using var receiver = await Receiver.StartAsync();
        receiver.Then(200, TimeSpan.FromMilliseconds(20));
        await using var a = new EngineAppFactory();
        await using var b = EngineAppFactory.OnDatabase(a.DatabasePath);
        var client = a.ClientWithKey((await a.CreateKeyAsync(Role.Admin)).Key);
        (await client.PostAsJsonAsync("/v1/webhooks", new { url = receiver.Url })).EnsureSuccessStatusCode();
        _ = b.Server;

        // Host A enqueues on publish; host B's sweep races it for the same due rows.
        await PublishAsync(client, 60);
        var deliveries = await WaitUntilFinishedAsync(a, 60, TimeSpan.FromSeconds(40));

        Assert.All(deliveries, d => Assert.Equal(DeliveryStatus.Delivered, d.Status));
        var perMessage = receiver.Requests.GroupBy(r => r.Headers["webhook-id"]).ToList();
        Assert.Equal(60, perMessage.Count);
        Assert.All(perMessage, g => Assert.Single(g));
        await using var db = await a.DbAsync();
        Assert.Equal(60, await db.DeliveryAttempts.CountAsync());
    }
}
