using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Callbacks;
using DeliveryConsole.Features.Calls;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Callbacks;

/// <summary>Dispatching callbacks: races, the scheduled job, restarts and provider failures, through the API on a real SQLite file.</summary>
public sealed class CallbackDispatchTests(EngineAppFactory app) : IClassFixture<EngineAppFactory>
{
    private static async Task<string> CreateAsync(HttpClient client, DateTime scheduledAt, string to = "+12015551234")
    {
        var response = await client.PostAsJsonAsync("/v1/callbacks", new
        {
            to_number = to,
            scheduled_at = scheduledAt,
            reason = "Customer asked to be called back",
            pipeline_config = new { voice = "alloy" },
            metadata = new { ticket = 42 },
        });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }

    private static async Task<JsonElement> GetAsync(HttpClient client, string id) =>
        await client.GetFromJsonAsync<JsonElement>($"/v1/callbacks/{id}");

    private async Task<List<Call>> CallsForAsync(string callbackId)
    {
        await using var db = await app.DbAsync();
        return await db.Calls.AsNoTracking().Where(c => c.CallbackId == callbackId).ToListAsync();
    }

    [Fact]
    public async Task Reschedule_MovesTheDispatchJob_WithAReason_AndIsAudited()
    {
        var client = await app.ClientAsync(Role.Operator, "cb-move-" + Guid.NewGuid().ToString("N")[..6]);
        var id = await CreateAsync(client, DateTime.UtcNow.AddHours(1));
        Callback row;
        await using (var db = await app.DbAsync())
        {
            row = await db.Callbacks.AsNoTracking().SingleAsync(c => c.Id == id);
        }

        var operatorCaller = new Caller(row.WorkspaceId, Role.Operator, "user", "op", "Olga");
        var callbacks = app.Service<CallbackService>();
        await Assert.ThrowsAsync<DeliveryConsole.Infrastructure.ValidationException>(() => callbacks.RescheduleAsync(operatorCaller, id, DateTime.UtcNow.AddHours(2), " "));
        await Assert.ThrowsAsync<DeliveryConsole.Infrastructure.ValidationException>(() => callbacks.RescheduleAsync(operatorCaller, id, DateTime.UtcNow.AddMinutes(-5), "too late"));
        await Assert.ThrowsAsync<DeliveryConsole.Infrastructure.ForbiddenException>(() => callbacks.RescheduleAsync(operatorCaller with { Role = Role.Viewer }, id, DateTime.UtcNow.AddHours(2), "viewer"));
        await Assert.ThrowsAsync<DeliveryConsole.Infrastructure.NotFoundException>(() => callbacks.RescheduleAsync(operatorCaller with { WorkspaceId = Guid.NewGuid() }, id, DateTime.UtcNow.AddHours(2), "elsewhere"));

        // Moved: a new dispatch job replaces the old one (an old job that fires anyway finds it not due).
        var moved = await callbacks.RescheduleAsync(operatorCaller, id, DateTime.UtcNow.AddSeconds(35), "The customer asked for right away");
        Assert.NotEqual(row.HangfireJobId, moved.HangfireJobId);
        await using (var db = await app.DbAsync())
        {
            var audit = await db.AuditEntries.SingleAsync(a => a.Action == "callback.rescheduled" && a.TargetId == id);
            Assert.Contains("The customer asked for right away", audit.Details);
            Assert.Contains($"from {row.ScheduledAt:u}", audit.Details);
        }

        await callbacks.CancelAsync(operatorCaller, id, "done testing");
        await Assert.ThrowsAsync<DeliveryConsole.Infrastructure.ConflictException>(() => callbacks.RescheduleAsync(operatorCaller, id, DateTime.UtcNow.AddHours(2), "after cancel"));
    }

    [Fact]
    public async Task Dispatch_CreatesOneCall_WhenTwentyRequestsRace()
    {
        var client = await app.ClientAsync(Role.Operator, "cb-race-" + Guid.NewGuid().ToString("N")[..6]);
        var id = await CreateAsync(client, DateTime.UtcNow.AddHours(1));

        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.PostAsync($"/v1/callbacks/{id}/dispatch", null)));

        Assert.Single(responses, r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(19, responses.Count(r => r.StatusCode == HttpStatusCode.Conflict));
        foreach (var conflict in responses.Where(r => r.StatusCode == HttpStatusCode.Conflict))
        {
            await Envelope.AssertErrorAsync(conflict, HttpStatusCode.Conflict, EnvelopeKind.Code);
        }

        var call = Assert.Single(await CallsForAsync(id));
        var callback = await GetAsync(client, id);
        Assert.Equal("dispatched", callback.GetProperty("status").GetString());
        Assert.Equal(call.Id, callback.GetProperty("created_session_id").GetString());
        Assert.NotEqual(JsonValueKind.Null, callback.GetProperty("attempted_at").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, callback.GetProperty("dispatched_at").ValueKind);
        Assert.Equal("+12015551234", call.ToNumber);
        // Dispatching again is a conflict too.
        await Envelope.AssertErrorAsync(await client.PostAsync($"/v1/callbacks/{id}/dispatch", null), HttpStatusCode.Conflict, EnvelopeKind.Code);
    }

    [Fact]
    public async Task Cancel_racing_dispatch_ends_in_one_consistent_state()
    {
        var client = await app.ClientAsync(Role.Operator, "cb-cancel-" + Guid.NewGuid().ToString("N")[..6]);
        for (var round = 0; round < 8; round++)
        {
            var id = await CreateAsync(client, DateTime.UtcNow.AddHours(1));
            var cancel = client.PostAsJsonAsync($"/v1/callbacks/{id}/cancel", new { reason = "customer called in" });
            var dispatch = client.PostAsync($"/v1/callbacks/{id}/dispatch", null);
            var results = await Task.WhenAll(cancel, dispatch);

            Assert.Single(results, r => r.StatusCode == HttpStatusCode.OK);
            Assert.Single(results, r => r.StatusCode == HttpStatusCode.Conflict);
            var callback = await GetAsync(client, id);
            var calls = await CallsForAsync(id);
            if (results[0].StatusCode == HttpStatusCode.OK)
            {
                Assert.Equal("cancelled", callback.GetProperty("status").GetString());
                Assert.Equal(JsonValueKind.String, callback.GetProperty("cancelled_at").ValueKind);
                Assert.Empty(calls);
            }
            else
            {
                Assert.Equal("dispatched", callback.GetProperty("status").GetString());
                Assert.Equal(Assert.Single(calls).Id, callback.GetProperty("created_session_id").GetString());
            }
        }
    }

    [Fact]
    public async Task A_scheduled_callback_dispatches_itself_at_its_time_and_a_cancelled_one_never_does()
    {
        var client = await app.ClientAsync(Role.Operator, "cb-sched-" + Guid.NewGuid().ToString("N")[..6]);
        var due = await CreateAsync(client, DateTime.UtcNow.AddSeconds(2));
        var cancelled = await CreateAsync(client, DateTime.UtcNow.AddSeconds(2));
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync($"/v1/callbacks/{cancelled}/cancel", new { })).StatusCode);

        var dispatched = await client.WaitForStatusAsync($"/v1/callbacks/{due}", "dispatched", TimeSpan.FromSeconds(10));
        Assert.True(dispatched.GetProperty("dispatched_at").GetDateTime() >= dispatched.GetProperty("scheduled_at").GetDateTime());
        Assert.Single(await CallsForAsync(due));

        await Task.Delay(1500);
        Assert.Equal("cancelled", (await GetAsync(client, cancelled)).GetProperty("status").GetString());
        Assert.Empty(await CallsForAsync(cancelled));
        await using var db = await app.DbAsync();
        Assert.Contains(await db.Events.Where(e => e.Type == "callback.dispatched").Select(e => e.PayloadJson).ToListAsync(), p => p.Contains(due));
    }

    [Fact]
    public async Task A_refused_dial_fails_with_the_cause_and_a_later_dispatch_retries()
    {
        var client = await app.ClientAsync(Role.Operator, "cb-refuse-" + Guid.NewGuid().ToString("N")[..6]);
        var id = await CreateAsync(client, DateTime.UtcNow.AddHours(1), to: "+15550000000");

        var response = await client.PostAsync($"/v1/callbacks/{id}/dispatch", null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var failed = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Contains("refused", failed.GetProperty("failure_cause").GetString());
        Assert.Equal(JsonValueKind.Null, failed.GetProperty("created_session_id").ValueKind);
        var failedCall = Assert.Single(await CallsForAsync(id));
        Assert.Equal(CallStatus.Failed, failedCall.Status);

        // Cancelling a failed callback is refused; dispatching it again is allowed.
        await Envelope.AssertErrorAsync(await client.PostAsJsonAsync($"/v1/callbacks/{id}/cancel", new { }), HttpStatusCode.Conflict, EnvelopeKind.Code);
        Assert.Equal("failed", (await (await client.PostAsync($"/v1/callbacks/{id}/dispatch", null)).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("status").GetString());
        Assert.Equal(2, (await CallsForAsync(id)).Count);
    }

    [Fact]
    public async Task The_sweep_settles_a_dispatch_whose_worker_died()
    {
        var client = await app.ClientAsync(Role.Operator, "cb-sweep-" + Guid.NewGuid().ToString("N")[..6]);
        var lost = await CreateAsync(client, DateTime.UtcNow.AddHours(1));
        var placed = await CreateAsync(client, DateTime.UtcNow.AddHours(1));
        var past = DateTime.UtcNow.AddMinutes(-5);
        await using (var db = await app.DbAsync())
        {
            var workspaceId = await db.Callbacks.Where(c => c.Id == placed).Select(c => c.WorkspaceId).SingleAsync();
            db.Calls.Add(new Call { Id = Call.NewId(), WorkspaceId = workspaceId, Status = CallStatus.Ringing, Direction = "OUTBOUND", ToNumber = "+12015551234",
                ProviderCallId = "sim_orphan", CallbackId = placed, CreatedAt = past.AddSeconds(1), UpdatedAt = past.AddSeconds(1) });
            // A call stored for the lost one but never dialled does not count.
            db.Calls.Add(new Call { Id = Call.NewId(), WorkspaceId = workspaceId, Status = CallStatus.Scheduled, Direction = "OUTBOUND", ToNumber = "+12015551234",
                CallbackId = lost, CreatedAt = past.AddSeconds(1), UpdatedAt = past.AddSeconds(1) });
            await db.SaveChangesAsync();

            // Both were claimed five minutes ago and their workers vanished; one had placed its call.
            // (Made last: the console's own periodic sweep may settle them from this moment on.)
            await db.Callbacks.Where(c => c.Id == lost || c.Id == placed).ExecuteUpdateAsync(s => s
                .SetProperty(c => c.Status, CallbackStatus.Dispatching).SetProperty(c => c.AttemptedAt, past).SetProperty(c => c.LeaseUntil, past.AddMinutes(2)));
        }

        await app.Service<CallbackSweeper>().SweepAsync(CancellationToken.None);

        var failed = await GetAsync(client, lost);
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Contains("interrupted", failed.GetProperty("failure_cause").GetString());
        var dispatched = await GetAsync(client, placed);
        Assert.Equal("dispatched", dispatched.GetProperty("status").GetString());
        Assert.Equal(Assert.Single(await CallsForAsync(placed)).Id, dispatched.GetProperty("created_session_id").GetString());
    }

    [Fact]
    public async Task Viewers_cannot_dispatch_or_cancel_and_other_workspaces_get_404()
    {
        var workspace = "cb-roles-" + Guid.NewGuid().ToString("N")[..6];
        var operatorClient = await app.ClientAsync(Role.Operator, workspace);
        var viewer = await app.ClientAsync(Role.Viewer, workspace);
        var stranger = await app.ClientAsync(Role.Admin, "cb-other-" + Guid.NewGuid().ToString("N")[..6]);
        var id = await CreateAsync(operatorClient, DateTime.UtcNow.AddHours(1));

        await Envelope.AssertErrorAsync(await viewer.PostAsync($"/v1/callbacks/{id}/dispatch", null), HttpStatusCode.Forbidden, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await viewer.PostAsJsonAsync($"/v1/callbacks/{id}/cancel", new { }), HttpStatusCode.Forbidden, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await stranger.PostAsync($"/v1/callbacks/{id}/dispatch", null), HttpStatusCode.NotFound, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await stranger.GetAsync($"/v1/callbacks/{id}"), HttpStatusCode.NotFound, EnvelopeKind.Code);
        Assert.Equal("scheduled", (await GetAsync(viewer, id)).GetProperty("status").GetString());
        Assert.Empty(await CallsForAsync(id));
    }
}

/// <summary>Restarts and the Http provider need their own hosts.</summary>
public sealed class CallbackRestartAndProviderTests
{
    [Fact]
    public async Task A_callback_scheduled_before_a_restart_is_dispatched_by_the_next_host()
    {
        var first = new EngineAppFactory();
        var (key, _) = await first.CreateKeyAsync(Role.Operator);
        var client = first.ClientWithKey(key);
        var response = await client.PostAsJsonAsync("/v1/callbacks", new { to_number = "+12015550123", scheduled_at = DateTime.UtcNow.AddSeconds(3) });
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        await first.DisposeAsyncKeepingData();

        // Hangfire's in-memory schedule died with the host; the sweep of the next one finds the row due.
        await using var second = EngineAppFactory.OnDatabase(first.DatabasePath);
        var next = second.ClientWithKey(key);
        await next.WaitForStatusAsync($"/v1/callbacks/{id}", "dispatched", TimeSpan.FromSeconds(15));
        await using var db = await second.DbAsync();
        Assert.Single(await db.Calls.Where(c => c.CallbackId == id).ToListAsync());
    }

    [Fact]
    public async Task Http_provider_failure_fails_the_dispatch_with_its_answer_and_a_retry_places_the_call()
    {
        await using var provider = await FakeTelephonyProvider.StartAsync();
        await using var app = EngineAppFactory.WithHttpTelephony(provider.Url);
        var client = await app.ClientAsync(Role.Operator);
        var created = await client.PostAsJsonAsync("/v1/callbacks", new { to_number = "+12015550199", scheduled_at = DateTime.UtcNow.AddHours(2) });
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;

        provider.FailDials(503);
        var failed = await (await client.PostAsync($"/v1/callbacks/{id}/dispatch", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("failed", failed.GetProperty("status").GetString());
        Assert.Contains("HTTP 503", failed.GetProperty("failure_cause").GetString());
        Assert.Contains("carrier unavailable", failed.GetProperty("failure_cause").GetString());

        var dispatched = await (await client.PostAsync($"/v1/callbacks/{id}/dispatch", null)).Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("dispatched", dispatched.GetProperty("status").GetString());
        Assert.Equal(JsonValueKind.Null, dispatched.GetProperty("failure_cause").ValueKind);
        var dials = provider.Requests.Where(r => r.Path == "/calls").ToList();
        Assert.Equal(2, dials.Count);
        Assert.All(dials, d => Assert.Equal("Bearer provider-token", d.Authorization));
        Assert.Equal("+12015550199", JsonDocument.Parse(dials[1].Body).RootElement.GetProperty("to_number").GetString());

        // The provider reports the call's progress; the call ends and call.completed goes to the engine.
        var callId = dispatched.GetProperty("created_session_id").GetString()!;
        string providerCallId;
        await using (var db = await app.DbAsync())
        {
            providerCallId = (await db.Calls.SingleAsync(c => c.Id == callId)).ProviderCallId!;
        }

        using var events = app.CreateClient();
        var unauthorized = await events.PostAsJsonAsync("/v1/telephony/events", new { provider_call_id = providerCallId, status = "IN_PROGRESS" });
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        events.DefaultRequestHeaders.Authorization = new("Bearer", "test-events-token");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, (await events.PostAsJsonAsync("/v1/telephony/events", new { provider_call_id = providerCallId, status = "SINGING" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await events.PostAsJsonAsync("/v1/telephony/events", new { provider_call_id = providerCallId, status = "IN_PROGRESS" })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await events.PostAsJsonAsync("/v1/telephony/events", new { provider_call_id = providerCallId, status = "COMPLETED" })).StatusCode);
        // Late, out-of-order report: accepted, changes nothing.
        var late = await (await events.PostAsJsonAsync("/v1/telephony/events", new { provider_call_id = providerCallId, status = "RINGING" })).Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(late.GetProperty("changed").GetBoolean());

        await using var read = await app.DbAsync();
        var call = await read.Calls.SingleAsync(c => c.Id == callId);
        Assert.Equal(CallStatus.Completed, call.Status);
        Assert.NotNull(call.CallStartTime);
        Assert.NotNull(call.EventPublishedAt);
        var evt = await read.Events.SingleAsync(e => e.CallId == callId && e.Type == "call.completed");
        Assert.Contains(callId, evt.PayloadJson);
    }
}
