using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Inboxes;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Delivery;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Inboxes;

/// <summary>Webhook inboxes: what they record, how they verify and answer, their bounds, who may do what, and the SSRF guard's one exception for them.</summary>
public sealed class InboxTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    private InboxService Inboxes => app.Service<InboxService>();

    private async Task<(Caller Admin, Caller Operator, Caller Viewer)> CallersAsync()
    {
        var (_, workspaceId) = await app.CreateKeyAsync(Role.Admin, "inbox-" + Guid.NewGuid().ToString("N")[..8]);
        return (new Caller(workspaceId, Role.Admin, "user", "a", "Ada"), new Caller(workspaceId, Role.Operator, "user", "o", "Otto"),
            new Caller(workspaceId, Role.Viewer, "user", "v", "Vera"));
    }

    private static InboxSettings Settings(string name = "rehearsal", Guid? endpoint = null, int status = 200, int delayMs = 0) =>
        new(name, endpoint, status, delayMs, TimeSpan.FromDays(1));

    private static string PathOf(InboxView inbox) => new Uri(inbox.Url).AbsolutePath;

    [Fact]
    public async Task An_inbox_records_what_it_receives_and_answers_as_scripted()
    {
        var (_, op, viewer) = await CallersAsync();
        var inbox = await Inboxes.CreateAsync(op, Settings(status: 503));
        Assert.Matches(@"^http://127\.0\.0\.1:5080/inbox/in_[0-9a-z]{32}$", inbox.Url);

        using var http = app.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Put, PathOf(inbox) + "/orders?x=1") { Content = new StringContent("""{"a":"<b>1</b>"}""", Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Custom", "yes");
        var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);

        var received = Assert.Single(await Inboxes.RequestsAsync(viewer, inbox.Id));
        Assert.Equal("PUT", received.Method);
        Assert.EndsWith("/orders?x=1", received.Path);
        Assert.Equal("""{"a":"<b>1</b>"}""", received.Body);
        Assert.Equal("yes", received.Header("x-custom"));
        Assert.Equal("not_checked", received.Signature);
        Assert.Equal(503, received.AnsweredStatus);
        Assert.Equal(1, (await Inboxes.GetAsync(viewer, inbox.Id)).ReceivedCount);
    }

    [Fact]
    public async Task Signatures_are_verified_with_the_endpoint_secret_and_every_failure_is_named()
    {
        var (admin, op, viewer) = await CallersAsync();
        var inbox = await Inboxes.CreateAsync(op, Settings());
        var endpoint = await app.Service<WebhookService>().SaveMasterAsync(admin, inbox.Url, [], 10);
        await Inboxes.UpdateAsync(op, inbox.Id, Settings(endpoint: endpoint.Endpoint.Id));

        using var http = app.CreateClient();
        async Task<InboxRequestView> SendAsync(string body, string? secret, long? timestamp = null, bool sign = true)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, PathOf(inbox)) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
            var at = timestamp ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            if (sign)
            {
                request.Headers.Add("webhook-id", "msg_1");
                request.Headers.Add("webhook-timestamp", at.ToString());
                request.Headers.Add("webhook-signature", WebhookSignature.Sign(secret!, "msg_1", at, body));
            }

            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);
            return (await Inboxes.RequestsAsync(viewer, inbox.Id, 1))[0];
        }

        var verified = await SendAsync("""{"ok":1}""", endpoint.Secret);
        Assert.Equal("verified", verified.Signature);
        Assert.Contains("v1", verified.SignatureDetail);
        Assert.Equal("mismatch", (await SendAsync("""{"ok":2}""", EndpointSecrets.NewSecret())).Signature);
        Assert.Equal("unsigned", (await SendAsync("{}", null, sign: false)).Signature);
        var stale = await SendAsync("{}", endpoint.Secret, DateTimeOffset.UtcNow.AddMinutes(-30).ToUnixTimeSeconds());
        Assert.Equal("stale", stale.Signature);
        Assert.Contains("30 minutes old", stale.SignatureDetail);

        // During a rotation's grace period the previous secret still verifies, and is named.
        await app.Service<EndpointService>().RotateSecretAsync(admin, endpoint.Endpoint.Id, TimeSpan.FromHours(1));
        var previous = await SendAsync("""{"ok":3}""", endpoint.Secret);
        Assert.Equal("verified", previous.Signature);
        Assert.Contains("v1", previous.SignatureDetail);
        Assert.Contains("previous", previous.SignatureDetail);
    }

    [Fact]
    public async Task Unknown_expired_and_oversized_requests_are_answered_without_storing_anything()
    {
        var (_, op, viewer) = await CallersAsync();
        var inbox = await Inboxes.CreateAsync(op, Settings());
        using var http = app.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync("/inbox/in_unknown", new StringContent("{}"))).StatusCode);
        var tooLarge = await http.PostAsync(PathOf(inbox), new ByteArrayContent(new byte[InboxService.MaxBodyBytes + 10]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Empty(await Inboxes.RequestsAsync(viewer, inbox.Id));

        await using (var db = await app.DbAsync())
        {
            await db.Set<WebhookInbox>().Where(i => i.Id == inbox.Id).ExecuteUpdateAsync(s => s.SetProperty(i => i.ExpiresAt, DateTime.UtcNow.AddMinutes(-1)));
        }

        Assert.Equal(HttpStatusCode.Gone, (await http.PostAsync(PathOf(inbox), new StringContent("{}"))).StatusCode);
        Assert.Empty(await Inboxes.RequestsAsync(viewer, inbox.Id));
        Assert.True(await Inboxes.SweepExpiredAsync() >= 1);
        await Assert.ThrowsAsync<NotFoundException>(() => Inboxes.GetAsync(viewer, inbox.Id));
    }

    [Fact]
    public async Task An_inbox_keeps_its_newest_requests_and_a_large_body_is_cut()
    {
        var (_, op, viewer) = await CallersAsync();
        var inbox = await Inboxes.CreateAsync(op, Settings());
        using var http = app.CreateClient();
        var big = new string('x', InboxService.KeptBodyBytes + 100);
        Assert.Equal(HttpStatusCode.OK, (await http.PostAsync(PathOf(inbox), new StringContent(big))).StatusCode);
        var cut = (await Inboxes.RequestsAsync(viewer, inbox.Id, 1))[0];
        Assert.True(cut.BodyTruncated);
        Assert.Equal(InboxService.KeptBodyBytes, cut.Body.Length);
        Assert.Equal(big.Length, cut.BodySize);

        for (var i = 0; i < InboxService.KeptRequests + 19; i++)
        {
            await http.PostAsync(PathOf(inbox), new StringContent($$"""{"n":{{i}}}"""));
        }

        await using var db = await app.DbAsync();
        var kept = await db.Set<InboxRequest>().CountAsync(r => r.InboxId == inbox.Id);
        Assert.InRange(kept, InboxService.KeptRequests, InboxService.KeptRequests + 10);
        Assert.Equal(InboxService.KeptRequests + 20, (await Inboxes.GetAsync(viewer, inbox.Id)).ReceivedCount);
        Assert.Equal($$"""{"n":{{InboxService.KeptRequests + 18}}}""", (await Inboxes.RequestsAsync(viewer, inbox.Id, 1))[0].Body);
    }

    [Fact]
    public async Task Roles_workspaces_validation_and_the_audit_log()
    {
        var (admin, op, viewer) = await CallersAsync();
        var (other, _, _) = await CallersAsync();
        await Assert.ThrowsAsync<ForbiddenException>(() => Inboxes.CreateAsync(viewer, Settings()));
        var inbox = await Inboxes.CreateAsync(op, Settings("orders"));
        await Assert.ThrowsAsync<ForbiddenException>(() => Inboxes.UpdateAsync(viewer, inbox.Id, Settings()));
        await Assert.ThrowsAsync<NotFoundException>(() => Inboxes.GetAsync(other, inbox.Id));
        await Assert.ThrowsAsync<NotFoundException>(() => Inboxes.RequestsAsync(other, inbox.Id));
        await Assert.ThrowsAsync<NotFoundException>(() => Inboxes.DeleteAsync(other, inbox.Id));
        Assert.DoesNotContain(await Inboxes.ListAsync(other), i => i.Id == inbox.Id);

        var invalid = await Assert.ThrowsAsync<ValidationException>(() => Inboxes.CreateAsync(op, new InboxSettings(" ", null, 99, 70_000, TimeSpan.FromDays(90))));
        Assert.Equal(["name", "answerStatus", "answerDelayMs", "lifetime"], invalid.Errors.Select(e => e.Location.Last()));
        var otherEndpoint = await app.Service<WebhookService>().SaveMasterAsync(other, "https://hooks.example.com/x", [], 10);
        await Assert.ThrowsAsync<ValidationException>(() => Inboxes.UpdateAsync(op, inbox.Id, Settings(endpoint: otherEndpoint.Endpoint.Id)));

        await Inboxes.UpdateAsync(op, inbox.Id, Settings("orders", status: 500, delayMs: 1500));
        await Inboxes.ClearAsync(op, inbox.Id);
        await Inboxes.DeleteAsync(admin, inbox.Id);
        await using var db = await app.DbAsync();
        var actions = await db.AuditEntries.Where(a => a.WorkspaceId == op.WorkspaceId && a.TargetId == inbox.Id.ToString()).OrderBy(a => a.At).Select(a => a.Action).ToListAsync();
        Assert.Equal(["inbox.created", "inbox.updated", "inbox.cleared", "inbox.deleted"], actions);
        var updated = await db.AuditEntries.SingleAsync(a => a.TargetId == inbox.Id.ToString() && a.Action == "inbox.updated");
        Assert.Contains("HTTP 500 after 1500 ms", updated.Details);
    }

    [Fact]
    public async Task The_guard_lets_webhooks_reach_this_consoles_inboxes_and_nothing_else_of_it()
    {
        var (admin, op, _) = await CallersAsync();
        var inbox = await Inboxes.CreateAsync(op, Settings());
        var guard = app.Service<SsrfGuard>();

        // Saved: an inbox URL of this console; refused: its other paths and any other loopback port.
        Assert.Null(await guard.CheckAsync(new Uri(inbox.Url)));
        Assert.Contains("own address", await guard.CheckAsync(new Uri("http://127.0.0.1:5080/v1/keys")));
        Assert.Contains("own address", await guard.CheckAsync(new Uri("http://localhost:5080/healthz")));
        Assert.Contains("loopback", await guard.CheckAsync(new Uri("http://127.0.0.1:5081/inbox/in_x")));
        var master = await app.Service<WebhookService>().SaveMasterAsync(admin, inbox.Url, [], 10);
        Assert.Equal(inbox.Url, master.Endpoint.Url);
        await Assert.ThrowsAsync<ValidationException>(() => app.Service<WebhookService>().SaveMasterAsync(admin, "http://127.0.0.1:5080/account/login", [], 10));

        // Sent: the console's other paths are refused before any connection; an inbox URL needs this process to listen (a test host does not).
        var sender = app.Service<WebhookSender>();
        var secret = EndpointSecrets.NewSecret();
        var other = await sender.SendAsync("http://127.0.0.1:5080/v1/keys", "msg", [secret], "{}", CancellationToken.None);
        Assert.Equal(AttemptErrorClass.Blocked, other.ErrorClass);
        Assert.Contains("only its inboxes", other.Error);
        var own = await sender.SendAsync(inbox.Url, "msg", [secret], "{}", CancellationToken.None);
        Assert.Equal(AttemptErrorClass.Blocked, own.ErrorClass);
        Assert.Contains("does not listen", own.Error);
    }
}
