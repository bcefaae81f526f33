using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Tests.Infrastructure;

namespace DeliveryConsole.Tests.Features.Callbacks;

/// <summary>Group 4 (reference/callbacks.txt): fields, order, filters, bounds and errors.</summary>
public sealed class CallbackApiTests(EngineAppFactory app) : IClassFixture<EngineAppFactory>
{
    [Fact]
    public async Task A_second_scheduled_callback_to_the_same_number_is_created_and_said_to_be_a_likely_duplicate()
    {
        var client = await app.ClientAsync(Role.Operator, "cbdup-" + Guid.NewGuid().ToString("N")[..6]);
        var other = await app.ClientAsync(Role.Operator, "cbdup-" + Guid.NewGuid().ToString("N")[..6]);
        var number = "+1201555" + Random.Shared.Next(1000, 9999);
        async Task<HttpResponseMessage> CreateAsync(HttpClient c) =>
            await c.PostAsJsonAsync("/v1/callbacks", new { to_number = number, scheduled_at = DateTime.UtcNow.AddHours(3) });

        var elsewhere = await CreateAsync(other);
        var first = await CreateAsync(client);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.False(first.Headers.Contains("X-Duplicate-Callbacks"), "another workspace's callback is not this one's duplicate");
        var firstId = (await first.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();

        var second = await CreateAsync(client);
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(firstId, Assert.Single(second.Headers.GetValues("X-Duplicate-Callbacks")));
        Assert.Contains($"{number} already has 1 scheduled callback", second.Headers.Warning.ToString());
        // The body stays the reference's.
        var body = await second.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(body.TryGetProperty("warnings", out _));
        Assert.Equal(HttpStatusCode.Created, elsewhere.StatusCode);
    }

    [Fact]
    public async Task List_is_soonest_first_filtered_by_status_and_source_with_the_reference_fields()
    {
        var (key, workspaceId) = await app.CreateKeyAsync(Role.Operator, "cbapi-" + Guid.NewGuid().ToString("N")[..6]);
        var client = app.ClientWithKey(key);
        var callA = await app.AddCallAsync(workspaceId);
        var callB = await app.AddCallAsync(workspaceId);
        var later = await client.PostAsJsonAsync("/v1/callbacks", new { to_number = "+12015550001", scheduled_at = DateTime.UtcNow.AddHours(5), source_session_id = callA });
        var sooner = await client.PostAsJsonAsync("/v1/callbacks", new { to_number = "+12015550002", scheduled_at = DateTime.UtcNow.AddHours(1), source_session_id = callB, metadata = new { k = "v" } });
        var soonerBody = await sooner.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["id", "organization_id", "source_session_id", "created_session_id", "agent_id", "phone_number_id", "to_number", "from_number", "scheduled_at",
            "status", "reason", "instructions", "summary", "pipeline_config", "metadata", "failure_cause", "attempted_at", "dispatched_at", "cancelled_at", "created_at", "updated_at"],
            soonerBody.EnumerateObject().Select(p => p.Name));
        Assert.Equal("v", soonerBody.GetProperty("metadata").GetProperty("k").GetString());
        var laterId = (await later.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        await client.PostAsJsonAsync($"/v1/callbacks/{laterId}/cancel", new { reason = "no longer needed" });

        var list = await client.GetFromJsonAsync<JsonElement>("/v1/callbacks");
        Assert.Equal(["callbacks"], list.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["+12015550002", "+12015550001"], list.GetProperty("callbacks").EnumerateArray().Select(c => c.GetProperty("to_number").GetString()));
        Assert.Equal(laterId, (await client.GetFromJsonAsync<JsonElement>("/v1/callbacks?status=cancelled")).GetProperty("callbacks").EnumerateArray().Single().GetProperty("id").GetString());
        Assert.Equal("+12015550002", (await client.GetFromJsonAsync<JsonElement>($"/v1/callbacks?source_session_id={callB}")).GetProperty("callbacks").EnumerateArray().Single().GetProperty("to_number").GetString());
        Assert.Single((await client.GetFromJsonAsync<JsonElement>("/v1/callbacks?limit=1")).GetProperty("callbacks").EnumerateArray());
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=101")]
    [InlineData("limit=ten")]
    [InlineData("status=pending")]
    public async Task Bad_list_parameters_are_400_in_the_code_envelope(string query)
    {
        var client = await app.ClientAsync(Role.Viewer, "cbapi-" + Guid.NewGuid().ToString("N")[..6]);
        var root = await Envelope.AssertErrorAsync(await client.GetAsync($"/v1/callbacks?{query}"), HttpStatusCode.BadRequest, EnvelopeKind.Code);
        Assert.Equal("BAD_REQUEST", root.GetProperty("code").GetString());
    }

    [Theory]
    [InlineData("""{"to_number":"2015550100","scheduled_at":"2030-01-01T10:00:00Z"}""")]
    [InlineData("""{"to_number":"+12","scheduled_at":"2030-01-01T10:00:00Z"}""")]
    [InlineData("""{"to_number":"+1201555010012345678","scheduled_at":"2030-01-01T10:00:00Z"}""")]
    [InlineData("""{"to_number":"+12015550100"}""")]
    [InlineData("""{"to_number":"+12015550100","scheduled_at":"tomorrow"}""")]
    [InlineData("""{"to_number":"+12015550100","scheduled_at":"2030-01-01T10:00:00Z","from_number":"555"}""")]
    [InlineData("""{"to_number":"+12015550100","scheduled_at":"2030-01-01T10:00:00Z","metadata":[1]}""")]
    public async Task Creating_needs_E164_numbers_a_time_and_objects(string body)
    {
        var client = await app.ClientAsync(Role.Operator, "cbapi-" + Guid.NewGuid().ToString("N")[..6]);
        var response = await client.PostAsync("/v1/callbacks", new StringContent(body, Encoding.UTF8, "application/json"));
        await Envelope.AssertErrorAsync(response, HttpStatusCode.BadRequest, EnvelopeKind.Code);
        Assert.Empty((await client.GetFromJsonAsync<JsonElement>("/v1/callbacks")).GetProperty("callbacks").EnumerateArray());
    }
}
