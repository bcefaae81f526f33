using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Tests.Infrastructure;

namespace DeliveryConsole.Tests.Features.Webhooks;

/// <summary>Bad input gets a clear error in the group's envelope, never a 500, and stores nothing.</summary>
public sealed class InputValidationTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    [Theory]
    [InlineData("""{"url":"ftp://example.com/x"}""", "url")]
    [InlineData("""{"url":"https://user:pass@example.com/x"}""", "url")]
    [InlineData("""{"url":"not a url"}""", "url")]
    [InlineData("""{}""", "url")]
    [InlineData("""{"url":"https://example.com","contextLimit":51}""", "contextLimit")]
    [InlineData("""{"url":"https://example.com","eventTypes":"call.completed"}""", "eventTypes")]
    public async Task MasterWebhook_BadBody_Gets422WithLocation(string body, string field)
    {
        var admin = await app.ClientAsync(Role.Admin, "v-" + Guid.NewGuid().ToString("N")[..8]);
        var response = await admin.PostAsync("/v1/webhooks", new StringContent(body, Encoding.UTF8, "application/json"));
        var root = await Envelope.AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, EnvelopeKind.Detail);
        var locations = root.GetProperty("detail").EnumerateArray().Select(e => e.GetProperty("loc")[1].GetString()).ToList();
        Assert.Contains(field, locations);
        Assert.Equal("null", await admin.GetStringAsync("/v1/webhooks"));
    }

    [Fact]
    public async Task MalformedJson_Gets422InDetailEnvelope_And400InOthers()
    {
        var admin = await app.ClientAsync(Role.Admin, "mj-" + Guid.NewGuid().ToString("N")[..8]);
        HttpContent Bad() => new StringContent("{\"url\": ", Encoding.UTF8, "application/json");
        await Envelope.AssertErrorAsync(await admin.PostAsync("/v1/webhooks", Bad()), HttpStatusCode.UnprocessableEntity, EnvelopeKind.Detail);
        await Envelope.AssertErrorAsync(await admin.PostAsync("/v1/applications", Bad()), HttpStatusCode.BadRequest, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await admin.PostAsync("/api/v1/campaigns", Bad()), HttpStatusCode.BadRequest, EnvelopeKind.SuccessFalse);
        await Envelope.AssertErrorAsync(await admin.PostAsync("/v1/callbacks", Bad()), HttpStatusCode.BadRequest, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await admin.PostAsync("/api/v1/calls", Bad()), HttpStatusCode.UnprocessableEntity, EnvelopeKind.Detail);
    }

    [Fact]
    public async Task OversizedBody_Gets413_InGroupEnvelope()
    {
        var admin = await app.ClientAsync(Role.Admin, "big-" + Guid.NewGuid().ToString("N")[..8]);
        var huge = JsonSerializer.Serialize(new { name = new string('a', 1_100_000) });
        await Envelope.AssertErrorAsync(await admin.PostAsync("/v1/applications", new StringContent(huge, Encoding.UTF8, "application/json")), HttpStatusCode.RequestEntityTooLarge, EnvelopeKind.Code);
        var list = await admin.GetFromJsonAsync<JsonElement>("/v1/applications");
        Assert.Equal(0, list.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public async Task Applications_NonUuidId_Is400_UnknownUuid_Is404()
    {
        var viewer = await app.ClientAsync(Role.Viewer, "uuid-" + Guid.NewGuid().ToString("N")[..8]);
        await Envelope.AssertErrorAsync(await viewer.GetAsync("/v1/applications/not-a-uuid"), HttpStatusCode.BadRequest, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await viewer.GetAsync($"/v1/applications/{Guid.NewGuid()}"), HttpStatusCode.NotFound, EnvelopeKind.Code);
    }

    [Theory]
    [InlineData("""{"to_number":"2015551234"}""")]
    [InlineData("""{"to_number":"+0123"}""")]
    [InlineData("""{"call_time":"tomorrow","to_number":"+12015551234"}""")]
    public async Task Calls_BadBody_Gets422(string body)
    {
        var operatorClient = await app.ClientAsync(Role.Operator, "calls-" + Guid.NewGuid().ToString("N")[..8]);
        await Envelope.AssertErrorAsync(await operatorClient.PostAsync("/api/v1/calls", new StringContent(body, Encoding.UTF8, "application/json")), HttpStatusCode.UnprocessableEntity, EnvelopeKind.Detail);
    }

    [Theory]
    [InlineData("status=pending")]
    [InlineData("limit=0")]
    [InlineData("limit=101")]
    [InlineData("limit=abc")]
    public async Task Callbacks_BadQuery_Gets400(string query)
    {
        var viewer = await app.ClientAsync(Role.Viewer, "cbq-" + Guid.NewGuid().ToString("N")[..8]);
        await Envelope.AssertErrorAsync(await viewer.GetAsync("/v1/callbacks?" + query), HttpStatusCode.BadRequest, EnvelopeKind.Code);
    }

    [Fact]
    public async Task Callbacks_CancelTwice_SecondIs409Conflict()
    {
        var operatorClient = await app.ClientAsync(Role.Operator, "cb-" + Guid.NewGuid().ToString("N")[..8]);
        var created = await (await operatorClient.PostAsJsonAsync("/v1/callbacks", new { to_number = "+12015551234", scheduled_at = "2030-01-01T10:00:00Z", metadata = new { priority = "high" } }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("high", created.GetProperty("metadata").GetProperty("priority").GetString());
        var id = created.GetProperty("id").GetString();
        var cancelled = await (await operatorClient.PostAsJsonAsync($"/v1/callbacks/{id}/cancel", new { reason = "customer called in" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("cancelled", cancelled.GetProperty("status").GetString());
        Assert.NotEqual(JsonValueKind.Null, cancelled.GetProperty("cancelled_at").ValueKind);
        await Envelope.AssertErrorAsync(await operatorClient.PostAsync($"/v1/callbacks/{id}/cancel", null), HttpStatusCode.Conflict, EnvelopeKind.Code);
    }

    [Fact]
    public async Task Application_FinishedUrl_BecomesEndpoint_SecretShownOnlyOnCreate()
    {
        var admin = await app.ClientAsync(Role.Admin, "app-" + Guid.NewGuid().ToString("N")[..8]);
        var created = await (await admin.PostAsJsonAsync("/v1/applications", new { name = "Dispatch", finishedUrl = "https://api.example.com/finished" }))
            .Content.ReadFromJsonAsync<JsonElement>();
        Assert.StartsWith("whsec_", created.GetProperty("signingSecret").GetString());
        var id = created.GetProperty("id").GetString();
        var fetched = await admin.GetStringAsync($"/v1/applications/{id}");
        Assert.DoesNotContain("whsec_", fetched);
        Assert.Contains("\"finishedUrl\":\"https://api.example.com/finished\"", fetched);

        var cleared = await (await admin.PatchAsJsonAsync($"/v1/applications/{id}", new { finishedUrl = (string?)null })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(JsonValueKind.Null, cleared.GetProperty("finishedUrl").ValueKind);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/v1/applications/{id}")).StatusCode);
    }
}
