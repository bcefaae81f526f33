using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Calls;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Calls;

/// <summary>Group 3 (reference/calls.txt) against the Simulated provider and a real receiver.</summary>
public sealed class CallApiTests(EngineAppFactory app) : IClassFixture<EngineAppFactory>
{
    private static string Workspace() => "calls-" + Guid.NewGuid().ToString("N")[..8];

    private static async Task<JsonElement> CreateAsync(HttpClient client, string to = "+12015550100", string? callType = null, string? loadNumber = null)
    {
        var response = await client.PostAsJsonAsync("/api/v1/calls", new { to_number = to, call_type = callType, load_number = loadNumber });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    [Fact]
    public async Task Ending_a_live_call_emits_call_completed_with_a_signed_recording_link_that_serves_the_wav_with_ranges()
    {
        await using var receiver = await Receiver.StartAsync();
        var client = await app.ClientAsync(Role.Admin, Workspace());
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/v1/webhooks", new { url = receiver.Url })).StatusCode);

        var created = await CreateAsync(client, callType: "dispatch_followup");
        var id = created.GetProperty("id").GetString()!;
        Assert.StartsWith("call_", id);
        Assert.Equal("OUTBOUND", created.GetProperty("call_direction").GetString());
        await client.WaitForStatusAsync($"/api/v1/calls/{id}", "IN_PROGRESS", TimeSpan.FromSeconds(10));

        var joined = await client.PostAsync($"/api/v1/calls/{id}/join", null);
        Assert.Equal(HttpStatusCode.OK, joined.StatusCode);
        var join = await joined.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(["join_url", "expires_at"], join.EnumerateObject().Select(p => p.Name));

        var ended = await client.PostAsync($"/api/v1/calls/{id}/end", null);
        Assert.Equal(HttpStatusCode.OK, ended.StatusCode);
        var call = await ended.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("COMPLETED", call.GetProperty("status").GetString());
        Assert.Equal("available", call.GetProperty("recording_status").GetString());
        await Envelope.AssertErrorAsync(await client.PostAsync($"/api/v1/calls/{id}/end", null), HttpStatusCode.Conflict, EnvelopeKind.Detail);
        await Envelope.AssertErrorAsync(await client.PostAsync($"/api/v1/calls/{id}/join", null), HttpStatusCode.Conflict, EnvelopeKind.Detail);

        // The webhook: the call and a fresh signed recording link.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!receiver.Requests.Any(r => r.Body.Contains("call.completed")) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        var body = JsonDocument.Parse(receiver.Requests.First(r => r.Body.Contains("call.completed")).Body).RootElement;
        var data = body.GetProperty("data");
        Assert.Equal(id, data.GetProperty("call").GetProperty("id").GetString());
        var link = new Uri(data.GetProperty("recording_url").GetString()!);
        Assert.Contains("token=", link.Query);

        using var anonymous = app.CreateClient();
        var wav = await anonymous.GetAsync(link.PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, wav.StatusCode);
        Assert.Equal("audio/wav", wav.Content.Headers.ContentType!.MediaType);
        var bytes = await wav.Content.ReadAsByteArrayAsync();
        Assert.Equal("RIFF", System.Text.Encoding.ASCII.GetString(bytes, 0, 4));
        using var ranged = new HttpRequestMessage(HttpMethod.Get, link.PathAndQuery);
        ranged.Headers.Range = new RangeHeaderValue(0, 99);
        var part = await anonymous.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, part.StatusCode);
        Assert.Equal(100, (await part.Content.ReadAsByteArrayAsync()).Length);
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.GetAsync($"/v1/recordings/{id}?token=forged")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/v1/calls/{id}/recording")).StatusCode);

        await using var db = await app.DbAsync();
        var actions = await db.AuditEntries.Where(a => a.TargetId == id).Select(a => a.Action).ToListAsync();
        Assert.Contains("call.ended", actions);
        Assert.Contains("call.joined", actions);
    }

    [Fact]
    public async Task The_list_filters_searches_orders_and_pages_as_the_reference_says()
    {
        var client = await app.ClientAsync(Role.Operator, Workspace());
        var a = (await CreateAsync(client, "+12015550111", "appointment", "LD-111")).GetProperty("id").GetString();
        var b = (await CreateAsync(client, "+12015550222", "delivery_check", "LD-222")).GetProperty("id").GetString();
        // The provider refuses this number: 409 with its reason, and the call is kept as FAILED.
        var refused = await client.PostAsJsonAsync("/api/v1/calls", new { to_number = "+15550000000" });
        var error = await Envelope.AssertErrorAsync(refused, HttpStatusCode.Conflict, EnvelopeKind.Detail);
        Assert.Contains("refused", error.GetProperty("detail").GetString());
        var c = (await client.GetFromJsonAsync<JsonElement>("/api/v1/calls?status=FAILED")).GetProperty("data").EnumerateArray().Single().GetProperty("id").GetString();

        var all = await client.GetFromJsonAsync<JsonElement>("/api/v1/calls?page_size=2");
        Assert.Equal(["data", "pagination"], all.EnumerateObject().Select(p => p.Name));
        var pagination = all.GetProperty("pagination");
        Assert.Equal(["page", "page_size", "total_count", "total_pages", "has_next", "has_prev"], pagination.EnumerateObject().Select(p => p.Name));
        Assert.Equal((1, 2, 3, 2, true, false), (pagination.GetProperty("page").GetInt32(), pagination.GetProperty("page_size").GetInt32(), pagination.GetProperty("total_count").GetInt32(),
            pagination.GetProperty("total_pages").GetInt32(), pagination.GetProperty("has_next").GetBoolean(), pagination.GetProperty("has_prev").GetBoolean()));
        // Newest first by default.
        Assert.Equal(c, all.GetProperty("data")[0].GetProperty("id").GetString());
        var oldest = await client.GetFromJsonAsync<JsonElement>("/api/v1/calls?order_by=created_at&order_desc=false&page_size=1");
        Assert.Equal(a, oldest.GetProperty("data")[0].GetProperty("id").GetString());

        Assert.Equal(b, (await client.GetFromJsonAsync<JsonElement>("/api/v1/calls?search=5550222")).GetProperty("data").EnumerateArray().Single().GetProperty("id").GetString());
        Assert.Equal(a, (await client.GetFromJsonAsync<JsonElement>("/api/v1/calls?search=appoint")).GetProperty("data").EnumerateArray().Single().GetProperty("id").GetString());
        Assert.Equal(b, (await client.GetFromJsonAsync<JsonElement>("/api/v1/calls?search=LD-222")).GetProperty("data").EnumerateArray().Single().GetProperty("id").GetString());
        Assert.Equal(3, (await client.GetFromJsonAsync<JsonElement>("/api/v1/calls?time_period=today")).GetProperty("pagination").GetProperty("total_count").GetInt32());
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/v1/calls?time_period=yesterday")).GetProperty("pagination").GetProperty("total_count").GetInt32());
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        Assert.Equal(3, (await client.GetFromJsonAsync<JsonElement>($"/api/v1/calls?time_period=custom&start_date={today}&end_date={today}")).GetProperty("pagination").GetProperty("total_count").GetInt32());
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/v1/calls?page=9")).GetProperty("data").GetArrayLength());
    }

    [Theory]
    [InlineData("page=0", "page")]
    [InlineData("page=abc", "page")]
    [InlineData("page_size=0", "page_size")]
    [InlineData("page_size=101", "page_size")]
    [InlineData("order_by=phone_number", "order_by")]
    [InlineData("order_desc=maybe", "order_desc")]
    [InlineData("status=RUNNING", "status")]
    [InlineData("time_period=last_year", "time_period")]
    [InlineData("time_period=custom", "start_date")]
    [InlineData("time_period=custom&start_date=2026-01-01", "end_date")]
    [InlineData("start_date=2026-13-01", "start_date")]
    [InlineData("start_date=2026-02-01&end_date=2026-01-01", "end_date")]
    public async Task Bad_list_parameters_get_422_with_their_location(string query, string field)
    {
        var client = await app.ClientAsync(Role.Viewer, Workspace());
        var root = await Envelope.AssertErrorAsync(await client.GetAsync($"/api/v1/calls?{query}"), HttpStatusCode.UnprocessableEntity, EnvelopeKind.Detail);
        Assert.Contains(root.GetProperty("detail").EnumerateArray(), e => e.GetProperty("loc")[1].GetString() == field);
    }

    [Theory]
    [InlineData("""{"to_number":"2015550100"}""")]
    [InlineData("""{"to_number":"+0123"}""")]
    [InlineData("""{"to_number":"+1 201 555 0100"}""")]
    [InlineData("""{}""")]
    public async Task Creating_a_call_needs_an_E164_number(string body)
    {
        var client = await app.ClientAsync(Role.Operator, Workspace());
        var response = await client.PostAsync("/api/v1/calls", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        await Envelope.AssertErrorAsync(response, HttpStatusCode.UnprocessableEntity, EnvelopeKind.Detail);
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonElement>("/api/v1/calls")).GetProperty("pagination").GetProperty("total_count").GetInt32());
    }

    [Fact]
    public async Task Organization_header_viewer_role_and_other_workspaces_are_refused()
    {
        var workspace = Workspace();
        var op = await app.ClientAsync(Role.Operator, workspace);
        var viewer = await app.ClientAsync(Role.Viewer, workspace);
        var stranger = await app.ClientAsync(Role.Admin, Workspace());
        var id = (await CreateAsync(op)).GetProperty("id").GetString();

        using var wrongOrg = new HttpRequestMessage(HttpMethod.Get, "/api/v1/calls");
        wrongOrg.Headers.Add("X-Organization-ID", "org_" + Guid.NewGuid());
        await Envelope.AssertErrorAsync(await op.SendAsync(wrongOrg), HttpStatusCode.Forbidden, EnvelopeKind.Detail);
        await Envelope.AssertErrorAsync(await viewer.PostAsync($"/api/v1/calls/{id}/end", null), HttpStatusCode.Forbidden, EnvelopeKind.Detail);
        await Envelope.AssertErrorAsync(await viewer.PostAsJsonAsync("/api/v1/calls", new { to_number = "+12015550100" }), HttpStatusCode.Forbidden, EnvelopeKind.Detail);
        await Envelope.AssertErrorAsync(await stranger.GetAsync($"/api/v1/calls/{id}"), HttpStatusCode.NotFound, EnvelopeKind.Detail);
        await Envelope.AssertErrorAsync(await stranger.PostAsync($"/api/v1/calls/{id}/end", null), HttpStatusCode.NotFound, EnvelopeKind.Detail);
        await Envelope.AssertErrorAsync(await op.GetAsync($"/api/v1/calls/{id}/recording"), HttpStatusCode.NotFound, EnvelopeKind.Detail);
    }
}
