using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Callbacks;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Callbacks;

/// <summary>Quiet hours: the window arithmetic in the callee's zone, and a due callback that waits for the window's end, audited.</summary>
public sealed class QuietHoursTests(EngineAppFactory app) : IClassFixture<EngineAppFactory>
{
    private static readonly TimeZoneInfo Paris = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris");

    [Theory]
    // 21:00–08:00 wraps midnight: 22:30 and 07:59 Paris time wait until 08:00; 08:00 and 20:59 do not.
    [InlineData(21 * 60, 8 * 60, "2026-12-05T21:30:00Z", "2026-12-06T07:00:00Z")]
    [InlineData(21 * 60, 8 * 60, "2026-12-06T06:59:00Z", "2026-12-06T07:00:00Z")]
    [InlineData(21 * 60, 8 * 60, "2026-12-06T07:00:00Z", "2026-12-06T07:00:00Z")]
    [InlineData(21 * 60, 8 * 60, "2026-12-05T19:59:00Z", "2026-12-05T19:59:00Z")]
    // 12:00–14:00 does not wrap.
    [InlineData(12 * 60, 14 * 60, "2026-12-05T11:30:00Z", "2026-12-05T13:00:00Z")]
    [InlineData(12 * 60, 14 * 60, "2026-12-05T13:00:00Z", "2026-12-05T13:00:00Z")]
    // Summer time: 08:00 Paris is 06:00 UTC.
    [InlineData(21 * 60, 8 * 60, "2026-07-01T23:00:00Z", "2026-07-02T06:00:00Z")]
    // The night clocks go forward (29 March 2026, 02:00 → 03:00): a 02:30 end does not exist and moves past the gap.
    [InlineData(22 * 60, 2 * 60 + 30, "2026-03-28T23:30:00Z", "2026-03-29T01:00:00Z")]
    public void AllowedFrom_is_the_end_of_the_window_in_the_callee_zone(int start, int end, string at, string expected)
    {
        var allowed = new QuietHours(start, end).AllowedFrom(DateTime.Parse(at).ToUniversalTime(), Paris);
        Assert.Equal(DateTime.Parse(expected).ToUniversalTime(), allowed);
    }

    [Theory]
    [InlineData("+33612345678", "Europe/Paris")]
    [InlineData("+12015550100", "America/New_York")]
    [InlineData("+447700900123", "Europe/London")]
    [InlineData("+353861234567", "Europe/Dublin")]
    [InlineData("+9999", null)]
    public void The_callee_zone_comes_from_the_calling_code(string number, string? zone) => Assert.Equal(zone, CalleeZone.Derive(number));

    [Fact]
    public async Task A_due_callback_in_quiet_hours_waits_until_they_end_and_an_operator_can_set_the_callee_zone()
    {
        var client = await app.ClientAsync(Role.Operator, "quiet-" + Guid.NewGuid().ToString("N")[..6]);
        var response = await client.PostAsJsonAsync("/v1/callbacks", new { to_number = "+33612345678", scheduled_at = DateTime.UtcNow.AddHours(2), reason = "quiet" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        Guid workspaceId;
        await using (var db = await app.DbAsync())
        {
            workspaceId = (await db.Callbacks.SingleAsync(c => c.Id == id)).WorkspaceId;
        }

        var admin = new Caller(workspaceId, Role.Admin, "user", "a", "Ada");
        var op = admin with { Role = Role.Operator, ActorId = "o", ActorName = "Otto" };
        var callbacks = app.Service<CallbackService>();
        await Assert.ThrowsAsync<ForbiddenException>(() => callbacks.SetQuietHoursAsync(op, 0, 60));
        await Assert.ThrowsAsync<ValidationException>(() => callbacks.SetQuietHoursAsync(admin, 60, 60));
        await Assert.ThrowsAsync<ValidationException>(() => callbacks.SetQuietHoursAsync(admin, 60, null));
        await Assert.ThrowsAsync<ValidationException>(() => callbacks.SetQuietHoursAsync(admin, -1, 1440));

        // A window around the callee's present moment (Paris time): the callback, made due now, waits.
        var parisNow = TimeZoneInfo.ConvertTimeFromUtc(DateTime.UtcNow, Paris);
        var start = (parisNow.Hour * 60 + parisNow.Minute + 1440 - 60) % 1440;
        var end = (start + 180) % 1440;
        await callbacks.SetQuietHoursAsync(admin, start, end);
        Assert.Equal(new QuietHours(start, end), await callbacks.GetQuietHoursAsync(op));
        await using (var db = await app.DbAsync())
        {
            await db.Callbacks.Where(c => c.Id == id).ExecuteUpdateAsync(s => s.SetProperty(c => c.ScheduledAt, DateTime.UtcNow.AddSeconds(-1)));
        }

        Assert.Null(await callbacks.DispatchDueAsync(workspaceId, id));
        var waiting = await callbacks.GetAsync(op, id);
        Assert.Equal(CallbackStatus.Scheduled, waiting.Status);
        Assert.NotNull(waiting.QuietDeferredFrom);
        var expectedEnd = new QuietHours(start, end).AllowedFrom(DateTime.UtcNow, Paris);
        Assert.InRange((waiting.ScheduledAt - expectedEnd).Duration().TotalSeconds, 0, 61);
        Assert.InRange((waiting.ScheduledAt - DateTime.UtcNow).TotalMinutes, 60, 121);

        // The callee is elsewhere: set their zone (audited); an unknown zone is refused.
        await Assert.ThrowsAsync<ValidationException>(() => callbacks.SetTimeZoneAsync(op, id, "Mars/Olympus"));
        await Assert.ThrowsAsync<NotFoundException>(() => callbacks.SetTimeZoneAsync(op with { WorkspaceId = Guid.NewGuid() }, id, "Asia/Tokyo"));
        Assert.Equal("Asia/Tokyo", (await callbacks.SetTimeZoneAsync(op, id, "Asia/Tokyo")).CalleeTimeZone);
        Assert.Null((await callbacks.SetTimeZoneAsync(op, id, null)).CalleeTimeZone);

        await callbacks.SetQuietHoursAsync(admin, null, null);
        Assert.Null(await callbacks.GetQuietHoursAsync(op));
        await using (var db = await app.DbAsync())
        {
            var actions = await db.AuditEntries.Where(a => a.WorkspaceId == workspaceId).OrderBy(a => a.At).Select(a => new { a.Action, a.Details }).ToListAsync();
            Assert.Contains(actions, a => a.Action == "callback.deferred" && a.Details!.Contains("in Europe/Paris"));
            Assert.Equal(2, actions.Count(a => a.Action == "workspace.quiet_hours_set"));
            Assert.Equal(2, actions.Count(a => a.Action == "callback.timezone_set"));
        }
    }
}
