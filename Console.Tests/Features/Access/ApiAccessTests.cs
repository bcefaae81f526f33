using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Tests.Infrastructure;

namespace DeliveryConsole.Tests.Features.Access;

/// <summary>
/// Every API group answers 401 without a key, 403 to a viewer on a write route and 404 for
/// another workspace's resource, each in the group's own envelope (API-CONTRACT.md).
/// </summary>
public sealed class ApiAccessTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    public static TheoryData<string, string, EnvelopeKind> UnauthenticatedRoutes => new()
    {
        { "GET", "/v1/webhooks", EnvelopeKind.Detail },
        { "POST", "/v1/applications", EnvelopeKind.Code },
        { "GET", "/api/v1/calls/call_00000000-0000-0000-0000-000000000000", EnvelopeKind.Detail },
        { "GET", "/v1/callbacks", EnvelopeKind.Code },
        { "GET", "/api/v1/campaigns", EnvelopeKind.SuccessFalse },
        { "GET", "/v1/api-keys", EnvelopeKind.Code },
    };

    [Theory]
    [MemberData(nameof(UnauthenticatedRoutes))]
    public async Task Request_WithoutKey_Gets401InGroupEnvelope(string method, string path, EnvelopeKind kind)
    {
        var response = await app.CreateClient().SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        await Envelope.AssertErrorAsync(response, HttpStatusCode.Unauthorized, kind);
    }

    [Theory]
    [MemberData(nameof(UnauthenticatedRoutes))]
    public async Task Request_WithUnknownOrRevokedKey_Gets401(string method, string path, EnvelopeKind kind)
    {
        var unknown = app.ClientWithKey("dck_" + new string('x', 32));
        await Envelope.AssertErrorAsync(await unknown.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)), HttpStatusCode.Unauthorized, kind);

        var (key, workspaceId) = await app.CreateKeyAsync(Role.Admin);
        var keys = await app.Service<ApiKeyService>().ListAsync(Caller.System(workspaceId));
        await app.Service<ApiKeyService>().RevokeAsync(Caller.System(workspaceId), keys.First(k => key.StartsWith(k.Prefix, StringComparison.Ordinal)).Id);
        var revoked = app.ClientWithKey(key);
        await Envelope.AssertErrorAsync(await revoked.SendAsync(new HttpRequestMessage(new HttpMethod(method), path)), HttpStatusCode.Unauthorized, kind);
    }

    public static TheoryData<string, string, string, EnvelopeKind> ViewerForbiddenRoutes => new()
    {
        { "POST", "/v1/webhooks", """{"url":"https://example.com/hook"}""", EnvelopeKind.Detail },
        { "POST", "/v1/applications", """{"name":"x"}""", EnvelopeKind.Code },
        { "POST", "/api/v1/calls", """{"to_number":"+12015551234"}""", EnvelopeKind.Detail },
        { "POST", "/v1/callbacks", """{"to_number":"+12015551234","scheduled_at":"2030-01-01T10:00:00Z"}""", EnvelopeKind.Code },
        { "POST", "/api/v1/campaigns", """{"name":"x"}""", EnvelopeKind.SuccessFalse },
        { "GET", "/v1/api-keys", "", EnvelopeKind.Code },
        { "POST", "/v1/api-keys", """{"role":"admin"}""", EnvelopeKind.Code },
    };

    [Theory]
    [MemberData(nameof(ViewerForbiddenRoutes))]
    public async Task Viewer_OnWriteRoute_Gets403InGroupEnvelope_AndNothingIsStored(string method, string path, string body, EnvelopeKind kind)
    {
        var viewer = await app.ClientAsync(Role.Viewer, "forbidden-" + Guid.NewGuid().ToString("N")[..8]);
        await using var before = await app.DbAsync();
        var auditBefore = before.AuditEntries.Count();

        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body.Length > 0)
        {
            request.Content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        }

        var root = await Envelope.AssertErrorAsync(await viewer.SendAsync(request), HttpStatusCode.Forbidden, kind);
        Assert.Contains("viewer", root.GetRawText());
        await using var after = await app.DbAsync();
        Assert.Equal(auditBefore, after.AuditEntries.Count());
    }

    [Fact]
    public async Task OtherWorkspacesResources_Are404_InEveryGroup()
    {
        var a = await app.ClientAsync(Role.Admin, "ws-a-" + Guid.NewGuid().ToString("N")[..8]);
        var b = await app.ClientAsync(Role.Admin, "ws-b-" + Guid.NewGuid().ToString("N")[..8]);

        // Group 1: A's master webhook does not exist for B.
        (await a.PostAsJsonAsync("/v1/webhooks", new { url = "https://a.example/hook" })).EnsureSuccessStatusCode();
        Assert.Equal("null", await b.GetStringAsync("/v1/webhooks"));
        await Envelope.AssertErrorAsync(await b.DeleteAsync("/v1/webhooks"), HttpStatusCode.NotFound, EnvelopeKind.Detail);

        // Group 2: applications.
        var application = await (await a.PostAsJsonAsync("/v1/applications", new { name = "A app" })).Content.ReadFromJsonAsync<JsonElement>();
        var applicationId = application.GetProperty("id").GetString();
        await Envelope.AssertErrorAsync(await b.GetAsync($"/v1/applications/{applicationId}"), HttpStatusCode.NotFound, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await b.DeleteAsync($"/v1/applications/{applicationId}"), HttpStatusCode.NotFound, EnvelopeKind.Code);

        // Group 3: calls.
        var call = await (await a.PostAsJsonAsync("/api/v1/calls", new { to_number = "+12015551234" })).Content.ReadFromJsonAsync<JsonElement>();
        await Envelope.AssertErrorAsync(await b.GetAsync($"/api/v1/calls/{call.GetProperty("id").GetString()}"), HttpStatusCode.NotFound, EnvelopeKind.Detail);

        // Group 4: callbacks.
        var callback = await (await a.PostAsJsonAsync("/v1/callbacks", new { to_number = "+12015551234", scheduled_at = "2030-01-01T10:00:00Z" })).Content.ReadFromJsonAsync<JsonElement>();
        var callbackId = callback.GetProperty("id").GetString();
        await Envelope.AssertErrorAsync(await b.GetAsync($"/v1/callbacks/{callbackId}"), HttpStatusCode.NotFound, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await b.PostAsync($"/v1/callbacks/{callbackId}/cancel", null), HttpStatusCode.NotFound, EnvelopeKind.Code);
        Assert.Equal("scheduled", (await a.GetFromJsonAsync<JsonElement>($"/v1/callbacks/{callbackId}")).GetProperty("status").GetString());

        // Group 5: campaigns and their webhooks.
        var campaign = await (await a.PostAsJsonAsync("/api/v1/campaigns", new { name = "A campaign" })).Content.ReadFromJsonAsync<JsonElement>();
        var campaignId = campaign.GetProperty("data").GetProperty("id").GetString();
        await Envelope.AssertErrorAsync(await b.GetAsync($"/api/v1/campaigns/{campaignId}"), HttpStatusCode.NotFound, EnvelopeKind.SuccessFalse);
        await Envelope.AssertErrorAsync(await b.GetAsync($"/api/v1/campaigns/{campaignId}/webhooks"), HttpStatusCode.NotFound, EnvelopeKind.SuccessFalse);

        // Keys: B cannot revoke A's key.
        var aKeys = await a.GetFromJsonAsync<JsonElement>("/v1/api-keys");
        var aKeyId = aKeys.GetProperty("data")[0].GetProperty("id").GetString();
        await Envelope.AssertErrorAsync(await b.DeleteAsync($"/v1/api-keys/{aKeyId}"), HttpStatusCode.NotFound, EnvelopeKind.Code);
        Assert.Equal(JsonValueKind.Null, (await a.GetFromJsonAsync<JsonElement>("/v1/api-keys")).GetProperty("data")[0].GetProperty("revokedAt").ValueKind);
    }

    [Fact]
    public async Task CallsGroup_RejectsForeignOrganizationHeader_With403()
    {
        var (key, workspaceId) = await app.CreateKeyAsync(Role.Viewer, "org-" + Guid.NewGuid().ToString("N")[..8]);
        var client = app.ClientWithKey(key);
        client.DefaultRequestHeaders.Add("X-Organization-ID", "org_" + Guid.NewGuid());
        await Envelope.AssertErrorAsync(await client.GetAsync("/api/v1/calls/call_x"), HttpStatusCode.Forbidden, EnvelopeKind.Detail);

        client.DefaultRequestHeaders.Remove("X-Organization-ID");
        client.DefaultRequestHeaders.Add("X-Organization-ID", "org_" + workspaceId);
        await Envelope.AssertErrorAsync(await client.GetAsync("/api/v1/calls/call_x"), HttpStatusCode.NotFound, EnvelopeKind.Detail);
    }

    [Fact]
    public async Task Health_And_OpenApi_AnswerWithoutKey()
    {
        var client = app.CreateClient();
        var health = await client.GetFromJsonAsync<JsonElement>("/healthz");
        Assert.Equal("ok", health.GetProperty("status").GetString());
        var openApi = await client.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = openApi.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/v1/api-keys", paths);
        Assert.Contains("/v1/applications/{id}", paths);
        Assert.Contains("/api/v1/campaigns/{campaignId}/webhooks", paths);
    }
}
