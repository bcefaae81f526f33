using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Infrastructure.Delivery;
using DeliveryConsole.Tests.Infrastructure;

namespace DeliveryConsole.Tests.Features.Deliveries;

/// <summary>Without an allow-list, private, loopback, link-local and metadata targets are refused at save and at connect time.</summary>
public sealed class SsrfGuardTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    [Theory]
    [InlineData("http://127.0.0.2/hook", "loopback")]
    [InlineData("http://169.254.169.254/latest/meta-data/", "cloud metadata")]
    [InlineData("http://10.0.0.1/hook", "private")]
    [InlineData("http://localhost:8080/hook", "loopback")]
    [InlineData("http://[::1]/hook", "loopback")]
    [InlineData("http://100.64.1.1/hook", "carrier-grade NAT")]
    [InlineData("http://192.168.1.10/hook", "private")]
    [InlineData("http://224.0.0.1/hook", "multicast")]
    public async Task SavingAPrivateTarget_IsRefusedWithAClearMessage(string url, string reason)
    {
        var admin = await app.ClientAsync(Role.Admin, "ssrf-" + Guid.NewGuid().ToString("N")[..8]);
        var root = await Envelope.AssertErrorAsync(await admin.PostAsJsonAsync("/v1/webhooks", new { url }), HttpStatusCode.UnprocessableEntity, EnvelopeKind.Detail);
        var error = root.GetProperty("detail")[0];
        Assert.Equal("url_blocked", error.GetProperty("type").GetString());
        Assert.Contains(reason, error.GetProperty("msg").GetString());
        await Envelope.AssertErrorAsync(await admin.PostAsJsonAsync("/v1/applications", new { name = "x", finishedUrl = url }), HttpStatusCode.BadRequest, EnvelopeKind.Code);
        Assert.Equal(0, (await admin.GetFromJsonAsync<JsonElement>("/v1/applications")).GetProperty("data").GetArrayLength());
    }

    [Theory]
    [InlineData("http://127.0.0.2:9/hook")]
    [InlineData("http://169.254.169.254/latest/meta-data/")]
    [InlineData("http://10.0.0.1/hook")]
    [InlineData("http://localhost:9/hook")]
    public async Task AtConnectTime_TheGuardRefusesBeforeAnyPacketIsSent(string url)
    {
        var result = await app.Service<WebhookSender>().SendAsync(url, "evt_test", "whsec_" + Convert.ToBase64String(new byte[24]), "{}", CancellationToken.None);
        Assert.Equal(AttemptErrorClass.Blocked, result.ErrorClass);
        Assert.Null(result.ResponseStatus);
        Assert.Contains("may not reach", result.Error);
    }

    [Fact]
    public async Task ARedirect_IsNotFollowed()
    {
        await using var receiver = await Receiver.StartAsync();
        receiver.Then(302);
        var allowed = new NetworkAllowList([(IPAddress.Parse("127.0.0.1"), 32)]);
        Assert.Null(allowed.Refusal(IPAddress.Parse("127.0.0.1")));
        Assert.NotNull(allowed.Refusal(IPAddress.Parse("127.0.0.2")));
        Assert.NotNull(NetworkAllowList.None.Refusal(IPAddress.Parse("::ffff:10.0.0.1")));
        Assert.Null(NetworkAllowList.None.Refusal(IPAddress.Parse("93.184.216.34")));
    }

    [Theory]
    [InlineData("127.0.0.1/33")]
    [InlineData("not-an-ip")]
    public void BadAllowListConfiguration_IsRejected(string value)
    {
        Assert.False(NetworkAllowList.TryParse(value, out _, out var error));
        Assert.Contains("AllowedPrivateNetworks", error);
    }
}
