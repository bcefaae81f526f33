using System.Net;
using System.Text.Json;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Tests.Infrastructure;

namespace DeliveryConsole.Tests.Features.Deliveries;

/// <summary>
/// The inspector's CSV export checks its whole query before the first byte: a refused query is a
/// 400 in <c>{"error", "code"}</c> and no file, never a 200 whose file stops after the header.
/// </summary>
public sealed class DeliveryExportTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    /// <summary>Each kind of query the export refuses, as a browser would send it.</summary>
    public static TheoryData<string, string> RefusedQueries => new()
    {
        { "payload: not a JSON path", "range=24h&payload=%24%5B%27data%27%5D%20%3D%20x" },
        { "payload: no operator", "range=24h&payload=%24.data.call.status" },
        { "payload: no value", "range=24h&payload=%24.data.call.status%20%3D" },
        { "payload: too long", "range=24h&payload=%24.a%20%3D%20" + new string('x', 700) },
        { "payload: no time range", "payload=%24.data.call.status%20%3D%20COMPLETED" },
        { "payload: a century", "range=custom&from=2000-01-01&to=2100-01-01&payload=%24.data.call.status%20%3D%20COMPLETED" },
        { "payload: eight days", "range=custom&from=2026-01-01&to=2026-01-08&payload=%24.data.call.status%20%3D%20COMPLETED" },
        { "status: unknown", "status=DROP%20TABLE" },
        { "status: repeated", "status=failed&status=delivered" },
        { "status: NUL", "status=%00" },
        { "status: invalid UTF-8", "status=%C3%28" },
        { "range: unknown", "range=forever" },
        { "range: custom without dates", "range=custom" },
        { "from: not a date", "range=custom&from=2026-13-45" },
        { "to: before from", "range=custom&from=2026-02-01&to=2026-01-01" },
        { "from without a custom range", "from=2026-01-01" },
        { "endpoint: not an id", "endpoint=1%27%20OR%20%271%27%3D%271" },
        { "scope: unknown", "scope=everything" },
        { "channel: unknown", "channel=fax" },
        { "answer: out of range", "answer=999" },
        { "answer: letters", "answer=ok" },
        { "type: too long", "type=" + new string('a', 200) },
        { "q: too long", "q=" + new string('a', 600) },
        { "sort: unknown", "sort=password" },
        { "dir: unknown", "dir=sideways" },
    };

    [Theory]
    [MemberData(nameof(RefusedQueries))]
    public async Task A_refused_query_is_a_400_in_the_envelope_and_no_file(string kind, string query)
    {
        var browser = await ConsoleBrowser.SignedInAsync(app, ConsoleAppFactory.AdminEmail, ConsoleAppFactory.AdminPassword);
        var response = await browser.GetAsync("/deliveries/export.csv?" + query);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{kind}: {(int)response.StatusCode} {text[..Math.Min(300, text.Length)]}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Null(response.Content.Headers.ContentDisposition);
        var root = JsonDocument.Parse(text).RootElement;
        Assert.Equal(["code", "error"], root.EnumerateObject().Select(p => p.Name).Order());
        Assert.Equal("BAD_REQUEST", root.GetProperty("code").GetString());
        Assert.StartsWith("Nothing was exported:", root.GetProperty("error").GetString());
        Assert.DoesNotContain("   at ", text);
    }

    [Fact]
    public async Task A_valid_query_is_a_whole_file_and_a_search_with_no_match_is_the_header_alone()
    {
        var client = await app.ClientAsync(DeliveryConsole.Features.Access.Role.Admin);
        (await client.PostAsync("/v1/webhooks", new StringContent("""{"url": "https://export.example/in"}""", System.Text.Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        (await client.PostAsync("/v1/events", new StringContent("""{"eventType": "call.completed", "payload": {"call": {"to_number": "+15550009999"}}}""", System.Text.Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();

        var browser = await ConsoleBrowser.SignedInAsync(app, ConsoleAppFactory.AdminEmail, ConsoleAppFactory.AdminPassword);
        var all = await browser.GetAsync("/deliveries/export.csv?range=24h&payload=%24.data.call.to_number%20%3D%20%2B15550009999&sort=createdAt&dir=asc");
        Assert.Equal(HttpStatusCode.OK, all.StatusCode);
        Assert.Equal("text/csv", all.Content.Headers.ContentType?.MediaType);
        var lines = (await all.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(string.Join(',', DeliveryExport.Columns), lines[0].TrimEnd('\r'));
        Assert.Equal(2, lines.Length);
        Assert.Contains("export.example", lines[1]);

        var none = await browser.GetAsync("/deliveries/export.csv?range=1h&payload=%24.data.call.to_number%20%3D%20nobody");
        Assert.Equal(HttpStatusCode.OK, none.StatusCode);
        Assert.Single((await none.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }
}
