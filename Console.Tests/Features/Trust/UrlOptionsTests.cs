using DeliveryConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;

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
        var exception = Assert.ThrowsAny<Exception>(() => configured.Services);
        var validation = exception as OptionsValidationException ?? exception.InnerException as OptionsValidationException
            ?? (exception as AggregateException)?.Flatten().InnerExceptions.OfType<OptionsValidationException>().FirstOrDefault();
        Assert.NotNull(validation);
        Assert.Contains(option, validation.Message);
        Assert.Contains("http(s)", validation.Message);
    }
}
