using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Tests.Infrastructure;

namespace DeliveryConsole.Tests.Features.Webhooks;

/// <summary>Publishing matches events against cached endpoints; every change to an endpoint is seen by the very next publish.</summary>
public sealed class EndpointDirectoryTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    private static async Task<int> PublishAsync(HttpClient client, string type = "call.completed")
    {
        var response = await client.PostAsJsonAsync("/v1/events", new { eventType = type, payload = new { n = 1 } });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("deliveryIds").GetArrayLength();
    }

    [Fact]
    public async Task Creating_changing_disabling_enabling_and_deleting_an_endpoint_show_in_the_next_publish()
    {
        var (key, workspaceId) = await app.CreateKeyAsync(Role.Admin, "directory-" + Guid.NewGuid().ToString("N")[..8]);
        var client = app.ClientWithKey(key);
        Assert.Equal(0, await PublishAsync(client));

        (await client.PostAsJsonAsync("/v1/webhooks", new { url = "https://hooks.example.com/in" })).EnsureSuccessStatusCode();
        Assert.Equal(1, await PublishAsync(client));

        // Its event types narrowed: another type no longer matches.
        (await client.PostAsJsonAsync("/v1/webhooks", new { url = "https://hooks.example.com/in", eventTypes = new[] { "call.completed" } })).EnsureSuccessStatusCode();
        Assert.Equal(0, await PublishAsync(client, "campaign.started"));
        Assert.Equal(1, await PublishAsync(client, "call.completed"));

        var caller = Caller.System(workspaceId, "test");
        var endpoints = app.Service<EndpointService>();
        var master = (await endpoints.OverviewAsync(caller)).Single().Endpoint.Id;
        await endpoints.SetEnabledAsync(caller, master, false);
        Assert.Equal(0, await PublishAsync(client));
        await endpoints.SetEnabledAsync(caller, master, true);
        Assert.Equal(1, await PublishAsync(client));

        (await client.DeleteAsync("/v1/webhooks")).EnsureSuccessStatusCode();
        Assert.Equal(0, await PublishAsync(client));
    }
}
