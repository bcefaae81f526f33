using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Tests.Infrastructure;

namespace DeliveryConsole.Tests.Features.Health;

/// <summary>GET /v1/system/process: the process's own figures, for admins only.</summary>
public sealed class SystemApiTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    [Fact]
    public async Task An_admin_reads_the_process_figures_and_they_grow_with_work()
    {
        var admin = await app.ClientAsync(Role.Admin);
        var first = await admin.GetFromJsonAsync<JsonElement>("/v1/system/process");
        for (var i = 0; i < 20; i++)
        {
            (await admin.GetAsync("/v1/webhooks/deliveries?limit=50")).EnsureSuccessStatusCode();
        }

        var second = await admin.GetFromJsonAsync<JsonElement>("/v1/system/process");
        Assert.True(second.GetProperty("allocatedBytes").GetInt64() > first.GetProperty("allocatedBytes").GetInt64());
        Assert.True(second.GetProperty("processorTimeMs").GetDouble() >= first.GetProperty("processorTimeMs").GetDouble());
        Assert.Equal(Environment.ProcessorCount, second.GetProperty("processorCount").GetInt32());
        Assert.Contains(second.GetProperty("gcMode").GetString(), new[] { "workstation", "server" });
        Assert.False(string.IsNullOrEmpty(second.GetProperty("node").GetString()));
    }

    [Fact]
    public async Task The_engine_figures_count_the_writers_transactions_and_what_was_published()
    {
        var admin = await app.ClientAsync(Role.Admin);
        var first = (await admin.GetFromJsonAsync<JsonElement>("/v1/system/process")).GetProperty("engine");
        (await admin.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", payload = new { n = 1 } })).EnsureSuccessStatusCode();

        var second = (await admin.GetFromJsonAsync<JsonElement>("/v1/system/process")).GetProperty("engine");
        Assert.True(second.GetProperty("writerBatches").GetInt64() > first.GetProperty("writerBatches").GetInt64());
        Assert.True(second.GetProperty("writerWrites").GetInt64() >= second.GetProperty("writerBatches").GetInt64());
        foreach (var name in new[] { "writerReplays", "claims", "claimed", "handedOver", "recordBatches", "recordedAttempts", "sends", "sendMs" })
        {
            Assert.True(second.GetProperty(name).GetInt64() >= 0, name);
        }
    }

    [Fact]
    public async Task Others_are_refused_in_the_code_envelope()
    {
        await Envelope.AssertErrorAsync(await (await app.ClientAsync(Role.Operator)).GetAsync("/v1/system/process"), HttpStatusCode.Forbidden, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await app.CreateClient().GetAsync("/v1/system/process"), HttpStatusCode.Unauthorized, EnvelopeKind.Code);
    }
}
