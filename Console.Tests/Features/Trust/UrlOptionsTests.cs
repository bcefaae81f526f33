using DeliveryConsole.Infrastructure;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace DeliveryConsole.Tests.Features.Trust;

/// <summary>Every option that holds a URL must be an absolute http(s) URL, checked when the console starts.</summary>
public sealed class UrlOptionsTests
{
    [Theory]
    [InlineData("Telephony:BaseUrl", "file:///etc/passwd", "Telephony:Provider", "Http")]
    [InlineData("Telephony:BaseUrl", "not a url", "Telephony:Provider", "Http")]
    [InlineData("Telephony:BaseUrl", "gopher://provider.example", "Telephony:Provider", "Simulated")]
    [InlineData("Delivery:PublicBaseUrl", "ftp://console.example.com", "Telephony:Provider", "Simulated")]
    [InlineData("Delivery:PublicBaseUrl", "/relative", "Telephony:Provider", "Simulated")]
    public void A_bad_url_option_stops_start_up_with_a_message_naming_it(string option, string value, string otherOption, string otherValue)
    {
        using var factory = new ConsoleAppFactory();
        using var configured = factory.WithWebHostBuilder(b => b.UseSetting(option, value).UseSetting(otherOption, otherValue));
        // What Program does before anything runs: one line naming the setting, its value and the rule (it then exits with 2).
        var problem = OptionsCheck.Problem(configured.Services, configured.Services.GetRequiredService<IConfiguration>());
        Assert.NotNull(problem);
        Assert.StartsWith($"error: {option} = '{value}' is not valid", problem);
        Assert.Contains("http(s)", problem);
    }
}
