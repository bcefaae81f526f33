using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Infrastructure.Delivery;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;

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
    [InlineData("http://[::7f00:1]/hook", "IPv4-compatible address carrying 127.0.0.1 (loopback)")]
    [InlineData("http://[::ffff:7f00:1]/hook", "loopback")]
    [InlineData("http://[64:ff9b::7f00:1]/hook", "NAT64 address carrying 127.0.0.1 (loopback)")]
    [InlineData("http://[64:ff9b::a9fe:a9fe]/hook", "NAT64 address carrying 169.254.169.254 (cloud metadata)")]
    [InlineData("http://[64:ff9b:1:7f00:0:100::]/hook", "NAT64 address carrying 127.0.0.1 (loopback)")]
    [InlineData("http://[2002:7f00:1::]/hook", "6to4 address carrying 127.0.0.1 (loopback)")]
    [InlineData("http://[2002:a00:1::1]/hook", "6to4 address carrying 10.0.0.1 (private)")]
    [InlineData("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook", "Teredo address carrying 127.0.0.1 (loopback)")]
    [InlineData("http://[fd00:ec2::254]/hook", "private")]
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
    [InlineData("http://[::7f00:1]:9/hook")]
    [InlineData("http://[64:ff9b::7f00:1]:9/hook")]
    [InlineData("http://[2002:7f00:1::]:9/hook")]
    [InlineData("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]:9/hook")]
    public async Task AtConnectTime_TheGuardRefusesBeforeAnyPacketIsSent(string url)
    {
        var result = await app.Service<WebhookSender>().SendAsync(url, "evt_test", ["whsec_" + Convert.ToBase64String(new byte[24])], "{}", CancellationToken.None);
        Assert.Equal(AttemptErrorClass.Blocked, result.ErrorClass);
        Assert.Null(result.ResponseStatus);
        Assert.Contains("may not reach", result.Error);
    }

    [Fact]
    public async Task ARedirect_IsNotFollowed()
    {
        await using var receiver = await Receiver.StartAsync();
        receiver.Then(302);
        var allowed = new NetworkAllowList([IPNetwork.Parse("127.0.0.1/32")]);
        Assert.Null(allowed.Refusal(IPAddress.Parse("127.0.0.1")));
        Assert.NotNull(allowed.Refusal(IPAddress.Parse("127.0.0.2")));
        Assert.NotNull(NetworkAllowList.None.Refusal(IPAddress.Parse("::ffff:10.0.0.1")));
        Assert.Null(NetworkAllowList.None.Refusal(IPAddress.Parse("93.184.216.34")));
    }

    [Theory]
    [InlineData("2a00:1450:4001:80b::200e")]
    [InlineData("64:ff9b::5db8:d822")]
    [InlineData("2002:5db8:d822::1")]
    public void PublicAddresses_InsideTransitionForms_AreAccepted(string address) =>
        Assert.Null(NetworkAllowList.None.Refusal(IPAddress.Parse(address)));

    [Fact]
    public void TheAllowList_AdmitsAnEmbeddedAddressItContains()
    {
        Assert.True(NetworkAllowList.TryParse(["127.0.0.1/32", "10.1.0.0/16"], out var list, out _));
        Assert.Null(list.Refusal(IPAddress.Parse("::7f00:1")));
        Assert.Null(list.Refusal(IPAddress.Parse("10.1.2.3")));
        Assert.NotNull(list.Refusal(IPAddress.Parse("10.2.0.1")));
    }

    [Fact]
    public void TheAllowList_BindsFromAListAsWellAsACommaSeparatedString()
    {
        using var factory = new ConsoleAppFactory();
        using var listed = factory.WithWebHostBuilder(b => b
            .UseSetting("Delivery:AllowedPrivateNetworks:0", "10.9.0.0/16")
            .UseSetting("Delivery:AllowedPrivateNetworks:1", "127.0.0.5"));
        var options = listed.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<DeliveryOptions>>().Value;
        Assert.True(NetworkAllowList.TryParse(options.AllowedPrivateNetworks, out var list, out _));
        Assert.Null(list.Refusal(IPAddress.Parse("10.9.1.1")));
        Assert.Null(list.Refusal(IPAddress.Parse("127.0.0.5")));
        Assert.NotNull(list.Refusal(IPAddress.Parse("127.0.0.6")));
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
