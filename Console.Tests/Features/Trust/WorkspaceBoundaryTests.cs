using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Web;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Trust;

/// <summary>Every id a request names must belong to the caller's workspace; recording links are bound to one.</summary>
public sealed class WorkspaceBoundaryTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    private static string Name(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task An_event_naming_another_workspaces_call_is_404_and_nothing_is_stored_or_signed()
    {
        var (_, workspaceA) = await app.CreateKeyAsync(Role.Admin, Name("owner"));
        var callOfA = await app.AddCallAsync(workspaceA);
        var (keyB, workspaceB) = await app.CreateKeyAsync(Role.Admin, Name("intruder"));
        var intruder = app.ClientWithKey(keyB);
        Assert.Equal(HttpStatusCode.OK, (await intruder.PostAsJsonAsync("/v1/webhooks", new { url = "https://hooks.example.com/b" })).StatusCode);

        var response = await intruder.PostAsJsonAsync("/v1/events", new
        {
            eventType = "call.completed",
            callId = callOfA,
            payload = new { call = new { id = callOfA, recording_url = "x" } },
        });
        var error = await Envelope.AssertErrorAsync(response, HttpStatusCode.NotFound, EnvelopeKind.Code);
        Assert.Contains("Call", error.GetProperty("error").GetString());

        var foreignApplication = await intruder.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", applicationId = Guid.NewGuid(), payload = new { } });
        await Envelope.AssertErrorAsync(foreignApplication, HttpStatusCode.NotFound, EnvelopeKind.Code);
        var foreignCampaign = await intruder.PostAsJsonAsync("/v1/events", new { eventType = "call.completed", campaignId = Guid.NewGuid(), payload = new { } });
        await Envelope.AssertErrorAsync(foreignCampaign, HttpStatusCode.NotFound, EnvelopeKind.Code);

        await using var db = await app.DbAsync();
        Assert.Equal(0, await db.Events.CountAsync(e => e.WorkspaceId == workspaceB));
        Assert.Equal(0, await db.Deliveries.CountAsync(d => d.WorkspaceId == workspaceB));
        Assert.False(await db.Deliveries.AnyAsync(d => d.PayloadJson.Contains("/v1/recordings/")));
    }

    [Fact]
    public async Task The_enricher_signs_only_a_call_of_the_deliverys_workspace()
    {
        var (_, workspaceA) = await app.CreateKeyAsync(Role.Admin, Name("enrich-a"));
        var (_, workspaceB) = await app.CreateKeyAsync(Role.Admin, Name("enrich-b"));
        var callOfA = await app.AddCallAsync(workspaceA);
        var enricher = app.Service<IPayloadEnricher>();
        var payload = """{"call":{"recording_url":"stale"}}""";

        var own = JsonDocument.Parse(await enricher.EnrichAsync(payload, workspaceA, callOfA)).RootElement;
        var link = own.GetProperty("call").GetProperty("recording_url").GetString()!;
        Assert.Contains($"/v1/recordings/{callOfA}?token=", link);

        var foreign = JsonDocument.Parse(await enricher.EnrichAsync(payload, workspaceB, callOfA)).RootElement;
        Assert.Equal(JsonValueKind.Null, foreign.GetProperty("call").GetProperty("recording_url").ValueKind);
    }

    [Fact]
    public async Task A_recording_link_serves_only_a_call_of_the_workspace_it_was_signed_for()
    {
        var (_, workspaceA) = await app.CreateKeyAsync(Role.Admin, Name("rec-a"));
        var (_, workspaceB) = await app.CreateKeyAsync(Role.Admin, Name("rec-b"));
        var callOfA = await app.AddCallAsync(workspaceA);
        var signer = app.Service<RecordingLinkSigner>();
        var anonymous = app.CreateClient();

        // Signed for workspace B but naming A's call: the route refuses to find it.
        var forged = new Uri(signer.LinkFor(workspaceB, callOfA));
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync(forged.PathAndQuery)).StatusCode);
        var token = HttpUtility.ParseQueryString(forged.Query)["token"]!;
        Assert.Equal(workspaceB, signer.WorkspaceOf(callOfA, token));
        Assert.Null(signer.WorkspaceOf(callOfA + "x", token));

        // A token of one call does not open another.
        var other = await app.AddCallAsync(workspaceA);
        var ownToken = HttpUtility.ParseQueryString(new Uri(signer.LinkFor(workspaceA, callOfA)).Query)["token"]!;
        Assert.Equal(HttpStatusCode.Forbidden, (await anonymous.GetAsync($"/v1/recordings/{other}?token={Uri.EscapeDataString(ownToken)}")).StatusCode);
    }

    [Fact]
    public async Task A_callback_naming_another_workspaces_call_as_its_source_is_404()
    {
        var (_, workspaceA) = await app.CreateKeyAsync(Role.Admin, Name("cb-a"));
        var callOfA = await app.AddCallAsync(workspaceA);
        var (keyB, workspaceB) = await app.CreateKeyAsync(Role.Operator, Name("cb-b"));
        var response = await app.ClientWithKey(keyB).PostAsJsonAsync("/v1/callbacks", new { to_number = "+12015550100", scheduled_at = DateTime.UtcNow.AddHours(1), source_session_id = callOfA });
        await Envelope.AssertErrorAsync(response, HttpStatusCode.NotFound, EnvelopeKind.Code);
        await using var db = await app.DbAsync();
        Assert.Equal(0, await db.Callbacks.CountAsync(c => c.WorkspaceId == workspaceB));
    }
}
