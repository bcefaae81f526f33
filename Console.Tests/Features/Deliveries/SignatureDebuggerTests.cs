using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Delivery;
using DeliveryConsole.Tests.Infrastructure;

namespace DeliveryConsole.Tests.Features.Deliveries;

/// <summary>The attempt viewer's tools on real rows: the signature debugger's verdicts, cURL and the payload diff.</summary>
public sealed class SignatureDebuggerTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    private const string Body = """{"type":"call.completed","data":{"call":{"id":"call_1","to":"+15550001111"}}}""";

    private async Task<(Caller Admin, Guid DeliveryId, Guid AttemptId, string Secret, string Sent, Guid EndpointId)> SeedAsync()
    {
        var (_, workspaceId) = await app.CreateKeyAsync(Role.Admin, "sig-" + Guid.NewGuid().ToString("N")[..8]);
        var admin = new Caller(workspaceId, Role.Admin, "user", "a", "Ada");
        var endpoint = await app.Service<EndpointService>().CreateAsync(admin, new EndpointForm(EndpointScope.Master, null, "https://hooks.example.com/in", []));
        var eventId = $"evt_{Guid.NewGuid():N}"[..28];
        const long timestamp = 1_780_000_000;
        var sent = WebhookSignature.Sign(endpoint.Secret, eventId, timestamp, Body);
        var headers = JsonSerializer.Serialize(new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["content-type"] = "application/json", ["webhook-id"] = eventId, ["webhook-timestamp"] = timestamp.ToString(), ["webhook-signature"] = sent,
        });
        await using var db = await app.DbAsync();
        var at = DateTimeOffset.FromUnixTimeSeconds(timestamp).UtcDateTime;
        db.Events.Add(new WebhookEvent { Id = eventId, WorkspaceId = workspaceId, Type = "call.completed", Channel = "voice", PayloadJson = Body, CreatedAt = at });
        var delivery = new Delivery
        {
            Id = Guid.CreateVersion7(), WorkspaceId = workspaceId, EventId = eventId, EndpointId = endpoint.Endpoint.Id, EventType = "call.completed", Channel = "voice",
            TargetUrl = endpoint.Endpoint.Url, TargetHost = "hooks.example.com", PayloadJson = Body, Status = DeliveryStatus.Failed, Attempts = 1, CreatedAt = at, UpdatedAt = at,
        };
        var attempt = new DeliveryAttempt
        {
            Id = Guid.CreateVersion7(), DeliveryId = delivery.Id, WorkspaceId = workspaceId, EndpointId = endpoint.Endpoint.Id, Number = 1, Trigger = AttemptTrigger.Initial,
            RequestUrl = endpoint.Endpoint.Url, RequestHeadersJson = headers, RequestBody = Body, ResponseStatus = 401, ResponseBody = "bad signature", DurationMs = 12,
            StartedAt = at, CompletedAt = at,
        };
        db.AddRange(delivery, attempt);
        await db.SaveChangesAsync();
        return (admin, delivery.Id, attempt.Id, endpoint.Secret, sent, endpoint.Endpoint.Id);
    }

    [Fact]
    public async Task Each_verdict_says_why_a_pasted_signature_does_or_does_not_match()
    {
        var (admin, deliveryId, attemptId, secret, sent, endpointId) = await SeedAsync();
        var debugger = app.Service<SignatureDebugger>();
        var viewer = admin with { Role = Role.Viewer };

        var shown = await debugger.CheckAsync(viewer, deliveryId, attemptId, null);
        Assert.Equal(SignatureVerdict.NotChecked, shown.Verdict);
        Assert.EndsWith("." + Body, shown.SignedString);
        Assert.StartsWith(shown.MessageId + ".1780000000.", shown.SignedString);
        Assert.True(shown.SignedWithCurrentSecret);
        Assert.Equal("v1, the current secret", shown.SignedBy);
        Assert.Equal(sent, shown.SentSignature);

        Assert.Equal(SignatureVerdict.Matches, (await debugger.CheckAsync(viewer, deliveryId, attemptId, sent)).Verdict);
        Assert.Equal(SignatureVerdict.Matches, (await debugger.CheckAsync(viewer, deliveryId, attemptId, "v1,bogus " + sent)).Verdict);
        Assert.Equal(SignatureVerdict.Malformed, (await debugger.CheckAsync(viewer, deliveryId, attemptId, "sha256=abc")).Verdict);
        var otherSecret = EndpointSecrets.NewSecret();
        Assert.Equal(SignatureVerdict.WrongSecret, (await debugger.CheckAsync(viewer, deliveryId, attemptId, WebhookSignature.Sign(otherSecret, shown.MessageId, shown.Timestamp, Body))).Verdict);
        var reserialized = JsonSerializer.Serialize(JsonDocument.Parse(Body).RootElement, new JsonSerializerOptions { WriteIndented = true });
        Assert.Equal(SignatureVerdict.BodyChanged, (await debugger.CheckAsync(viewer, deliveryId, attemptId, WebhookSignature.Sign(secret, shown.MessageId, shown.Timestamp, reserialized))).Verdict);

        // After a rotation: the attempt was signed with the earlier secret; the new one's signature is recognised as such.
        // A rotation with a grace period: the attempt was signed by v1, now the previous secret; the customer's receiver still on v1 is told to switch.
        var rotated = await app.Service<EndpointService>().RotateSecretAsync(admin, endpointId, TimeSpan.FromHours(24));
        Assert.Equal(2, rotated.Version);
        var afterRotation = await debugger.CheckAsync(viewer, deliveryId, attemptId, WebhookSignature.Sign(rotated.Secret, shown.MessageId, shown.Timestamp, Body));
        Assert.False(afterRotation.SignedWithCurrentSecret);
        Assert.StartsWith("v1, the previous secret, signing beside it until", afterRotation.SignedBy);
        Assert.Equal(SignatureVerdict.CurrentSecretButRotatedSince, afterRotation.Verdict);
        Assert.Contains("secret v2 (the current secret)", afterRotation.Explanation);
        var stillOld = await debugger.CheckAsync(viewer, deliveryId, attemptId, sent);
        Assert.Equal(SignatureVerdict.Matches, stillOld.Verdict);
        Assert.Contains("switch it to the current one", stillOld.Explanation);

        // Rotated again without grace: v1 is forgotten, the attempt's signer is named as rotated away.
        await app.Service<EndpointService>().RotateSecretAsync(admin, endpointId, TimeSpan.Zero);
        Assert.Equal("a secret before v3 (rotated away since)", (await debugger.CheckAsync(viewer, deliveryId, attemptId, null)).SignedBy);
        await Assert.ThrowsAsync<ValidationException>(() => app.Service<EndpointService>().RotateSecretAsync(admin, endpointId, TimeSpan.FromDays(8)));

        // Another workspace's attempt: 404.
        var stranger = new Caller(Guid.NewGuid(), Role.Admin, "user", "s", "Stranger");
        await Assert.ThrowsAsync<NotFoundException>(() => debugger.CheckAsync(stranger, deliveryId, attemptId, sent));
    }

    [Fact]
    public async Task Curl_replays_the_request_exactly_and_the_diff_shows_what_a_resend_changed()
    {
        var (admin, deliveryId, _, _, sent, _) = await SeedAsync();
        var attempt = (await app.Service<DeliveryQueries>().GetAsync(admin, deliveryId)).Attempts.Single();
        var curl = AttemptTools.Curl(attempt with { RequestBody = "{\"name\":\"O'Brien\"}" });
        Assert.StartsWith("curl -X POST 'https://hooks.example.com/in'", curl);
        Assert.Contains($"-H 'webhook-signature: {sent}'", curl);
        Assert.Contains("--data-raw '{\"name\":\"O'\\''Brien\"}'", curl);

        var diff = AttemptTools.Diff("""{"a":1,"url":"https://x/old"}""", """{"a":1,"url":"https://x/new"}""");
        Assert.Contains(diff, l => l.Kind == '-' && l.Text.Contains("old"));
        Assert.Contains(diff, l => l.Kind == '+' && l.Text.Contains("new"));
        Assert.Contains(diff, l => l.Kind == ' ' && l.Text.Contains("\"a\": 1"));
    }
}
