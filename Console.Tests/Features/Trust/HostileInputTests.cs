using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Infrastructure.Api;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace DeliveryConsole.Tests.Features.Trust;

/// <summary>The console with a rate limit no corpus reaches and the telephony events token set.</summary>
public sealed class HostileInputFactory : EngineAppFactory
{
    protected override IEnumerable<KeyValuePair<string, string?>> More =>
    [
        new("RateLimit:PermitLimit", "1000000"),
    ];
}

/// <summary>
/// Every API route, found in the application's own endpoint data source (a route added later is
/// covered without anyone listing it), gets a corpus of hostile requests per category: encoding,
/// types, bounds, sizes, methods, path ids and query strings. No answer may be a 5xx; every error
/// is in the envelope of the route's group; a refused write stores nothing.
/// </summary>
public sealed class HostileInputTests(HostileInputFactory app, ITestOutputHelper output) : IClassFixture<HostileInputFactory>
{
    private const string TelephonyToken = "test-events-token";

    /// <summary>Names of body fields across the API, so hostile values reach each route's own readers.</summary>
    private static readonly string[] Fields =
    [
        "url", "name", "eventType", "eventTypes", "channel", "payload", "callId", "applicationId", "campaignId", "finishedUrl",
        "contextLimit", "role", "events", "status", "deliveryIds", "to_number", "from_number", "scheduled_at", "call_time",
        "call_type", "load_id", "load_number", "source_session_id", "agent_id", "phone_number_id", "reason", "instructions",
        "summary", "pipeline_config", "metadata", "provider_call_id", "expiresInDays",
    ];

    private sealed record Route(string Pattern, IReadOnlyList<string> Methods, string[] Parameters);

    private sealed record Case(string Category, string Name, string Method, string Path, HttpContent? Body, string? Authorization = null);

    private static IReadOnlyList<Route> ApiRoutes(IServiceProvider services) =>
        services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && ApiGroups.EnvelopeFor("/" + raw.TrimStart('/')) is not null)
            .GroupBy(e => "/" + e.RoutePattern.RawText!.Trim('/'))
            .Select(g => new Route(
                g.Key,
                g.SelectMany(e => e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Distinct().ToList(),
                g.First().RoutePattern.Parameters.Select(p => p.Name).ToArray()))
            .OrderBy(r => r.Pattern, StringComparer.Ordinal)
            .ToList();

    [Fact]
    public async Task Every_api_route_answers_every_hostile_request_without_a_5xx_in_its_groups_envelope_storing_nothing()
    {
        var (key, workspaceId) = await app.CreateKeyAsync(Role.Admin, "hostile-" + Guid.NewGuid().ToString("N")[..8]);
        var routes = ApiRoutes(app.Services);
        output.WriteLine(string.Join("\n", routes.Select(r => $"{string.Join(",", r.Methods)} {r.Pattern}")));
        Assert.True(routes.Sum(r => r.Methods.Count) >= 35, $"only {routes.Count} API routes found");

        var client = app.ClientWithKey(key);
        var failures = new List<string>();
        var cases = 0;
        var before = await CountsAsync(workspaceId);
        foreach (var route in routes)
        {
            foreach (var hostile in CasesFor(route))
            {
                cases++;
                using var request = new HttpRequestMessage(new HttpMethod(hostile.Method), hostile.Path) { Content = hostile.Body };
                request.Headers.Authorization = AuthorizationFor(route, key, hostile);
                using var response = await client.SendAsync(request);
                var text = await response.Content.ReadAsStringAsync();
                var status = (int)response.StatusCode;
                if (status >= 500)
                {
                    failures.Add($"{hostile.Method} {route.Pattern} [{hostile.Category}: {hostile.Name}] -> {status}: {Cut(text)}");
                    continue;
                }

                if (status >= 400 && EnvelopeProblem(ApiGroups.EnvelopeFor(route.Pattern)!, response, text) is { } problem)
                {
                    failures.Add($"{hostile.Method} {route.Pattern} [{hostile.Category}: {hostile.Name}] -> {status} not in its envelope ({problem}): {Cut(text)}");
                }

                var after = await CountsAsync(workspaceId);
                if (status >= 400 && hostile.Method != "GET" && !after.SequenceEqual(before))
                {
                    failures.Add($"{hostile.Method} {route.Pattern} [{hostile.Category}: {hostile.Name}] -> {status} but rows changed: {string.Join(",", before)} -> {string.Join(",", after)}");
                }

                before = after;
            }
        }

        output.WriteLine($"{routes.Count} route patterns ({routes.Sum(r => r.Methods.Count)} operations) x hostile cases = {cases} requests, {failures.Count} failures");
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} requests over {routes.Count} routes failed:\n" + string.Join("\n", failures.Take(60)));
    }

    /// <summary>Hostile query strings for the CSV export, beyond the refused kinds of <see cref="Deliveries.DeliveryExportTests"/>.</summary>
    private static readonly string[] ExportQueries =
    [
        "", "range=24h", "range=7d&status=failed&sort=attempts&dir=asc", "range=custom&from=2026-01-01&to=2026-01-02",
        "status=%00", "status=%C3%28&q=%FF%FE", "q=%27%3B%20DROP%20TABLE%20deliveries%3B--", "q=" + new string('a', 500), "q=evt_%25%25%25",
        "payload=%24.a%20%3D%201&range=1h", "payload=%24.a%5B9999%5D%20~%20x&range=1h", "payload=%24.a%20%21%3D%20null&range=1h",
        "payload=%24%20%3D%20x&range=1h", "payload=%24..a%20%3D%20x&range=1h", "payload=%24.a%20%3D%20%22%22&range=1h", "payload=%3D%3D%3D&range=1h",
        "range=custom&from=0001-01-01&to=9999-12-31", "range=custom&from=2026-01-01T00:00Z&to=2026-01-01T00:00Z",
        "endpoint=00000000-0000-0000-0000-000000000000", "answer=none", "answer=100", "answer=-1", "limit=-1&offset=99999999999999999999",
        "type=" + new string('a', 100), "sort=CREATEDAT&dir=ASC", "range=1h&range=24h", "payload=" + new string('%', 3),
    ];

    [Fact]
    public async Task The_csv_export_answers_every_hostile_query_with_a_whole_file_or_a_400_before_any_byte()
    {
        var browser = await ConsoleBrowser.SignedInAsync(app, ConsoleAppFactory.AdminEmail, ConsoleAppFactory.AdminPassword);
        var queries = ExportQueries.Concat(Deliveries.DeliveryExportTests.RefusedQueries.Select(row => (string)row[1])).ToList();
        var failures = new List<string>();
        foreach (var query in queries)
        {
            using var response = await browser.GetAsync("/deliveries/export.csv?" + query);
            var text = await response.Content.ReadAsStringAsync();
            var type = response.Content.Headers.ContentType?.MediaType;
            var whole = response.StatusCode == HttpStatusCode.OK && type == "text/csv" && text.StartsWith("id,event_id,", StringComparison.Ordinal)
                && text.EndsWith('\n') && !text.Contains("ERROR,", StringComparison.Ordinal);
            var refused = response.StatusCode == HttpStatusCode.BadRequest && type == "application/json" && response.Content.Headers.ContentDisposition is null
                && EnvelopeProblem(ErrorEnvelope.Code, response, text) is null;
            if (!whole && !refused)
            {
                failures.Add($"{query} -> {(int)response.StatusCode} {type}: {Cut(text)}");
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} of {queries.Count} export queries:\n" + string.Join("\n", failures));
    }

    [Fact]
    public async Task Console_routes_that_read_a_body_refuse_hostile_bodies_without_a_5xx_and_store_nothing()
    {
        var caller = await app.SystemCallerAsync();
        var inbox = await app.Service<DeliveryConsole.Features.Inboxes.InboxService>().CreateAsync(caller, new DeliveryConsole.Features.Inboxes.InboxSettings("hostile", null, 200, 0, TimeSpan.FromHours(1)));
        var inboxPath = new Uri(inbox.Url).AbsolutePath;
        var bodies = new (string Name, Func<HttpContent> Body)[]
        {
            ("empty", () => Json("")),
            ("invalid UTF-8", () => Raw(InvalidUtf8InEveryField())),
            ("form", () => new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = "forged", ["Input.Email"] = "a\u0000b", ["Input.Password"] = new string('x', 10_000) })),
            ("multipart", () => new MultipartFormDataContent { { new StringContent("x"), "file", "a.txt" } }),
            ("1 MiB + 1", () => Json(new string('x', 1024 * 1024 + 1))),
            ("5 MiB", () => Json(new string('x', 5 * 1024 * 1024))),
            ("2 MiB without a length", () => UnsizedContent.Of(Json(new string('x', 2 * 1024 * 1024)))),
        };
        var routes = new (string Path, Func<int, bool> Expected)[]
        {
            // The inbox records what fits (its own answer) and refuses what does not (413).
            (inboxPath, status => status is 200 or 413),
            ("/inbox/in_no_such_inbox", status => status is 404 or 413),
            // Sign-in and sign-out are forms with an antiforgery token: without one, 400, and more than the server takes, 413.
            ("/account/login", status => status is 400 or 413),
            ("/account/logout", status => status is 400 or 413),
        };
        var client = ConsoleBrowser.Create(app);
        var failures = new List<string>();
        long received;
        foreach (var (path, expected) in routes)
        {
            foreach (var (name, body) in bodies)
            {
                using var response = await client.PostAsync(path, body());
                var status = (int)response.StatusCode;
                var text = await response.Content.ReadAsStringAsync();
                if (status >= 500 || !expected(status) || text.Contains("   at ", StringComparison.Ordinal))
                {
                    failures.Add($"POST {path} [{name}] -> {status}: {Cut(text)}");
                }
            }
        }

        await using (var db = await app.DbAsync())
        {
            received = await db.Set<DeliveryConsole.Features.Inboxes.InboxRequest>().LongCountAsync(r => r.InboxId == inbox.Id);
        }

        // Only what fits an inbox is recorded: the empty body, the invalid bytes, the form, the multipart one.
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(4, received);
    }

    [Fact]
    public async Task Framework_errors_under_an_api_prefix_are_written_in_the_groups_envelope()
    {
        var client = await app.ClientAsync(Role.Admin, "fw-" + Guid.NewGuid().ToString("N")[..8]);
        await Envelope.AssertErrorAsync(await client.PutAsync("/v1/webhooks", Json("{}")), HttpStatusCode.MethodNotAllowed, EnvelopeKind.Detail);
        await Envelope.AssertErrorAsync(await client.PutAsync("/v1/applications", Json("{}")), HttpStatusCode.MethodNotAllowed, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await client.DeleteAsync("/api/v1/campaigns"), HttpStatusCode.MethodNotAllowed, EnvelopeKind.SuccessFalse);
        await Envelope.AssertErrorAsync(await client.GetAsync("/v1/webhooks/nothing-here"), HttpStatusCode.NotFound, EnvelopeKind.Detail);
        await Envelope.AssertErrorAsync(await client.GetAsync("/v1/no-such-group"), HttpStatusCode.NotFound, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(await client.GetAsync("/api/v1/no-such-group"), HttpStatusCode.NotFound, EnvelopeKind.Detail);
        await Envelope.AssertErrorAsync(await client.GetAsync("/api/v1/campaigns/x/y/z/w"), HttpStatusCode.NotFound, EnvelopeKind.SuccessFalse);
        await Envelope.AssertErrorAsync(await client.GetAsync("/v1/webhooks/deliveries?x=" + new string('a', 9000)), HttpStatusCode.RequestUriTooLong, EnvelopeKind.Detail);
        await Envelope.AssertErrorAsync(await client.GetAsync("/api/v1/campaigns?x=" + new string('a', 9000)), HttpStatusCode.RequestUriTooLong, EnvelopeKind.SuccessFalse);
        await Envelope.AssertErrorAsync(
            await client.PostAsync("/v1/applications", new StringContent("name=x", Encoding.UTF8, "application/x-www-form-urlencoded")),
            HttpStatusCode.UnsupportedMediaType, EnvelopeKind.Code);
        await Envelope.AssertErrorAsync(
            await client.PostAsync("/v1/webhooks", new StringContent("{\"url\":\"https://a.example\"}", Encoding.Unicode, "application/json")),
            HttpStatusCode.UnsupportedMediaType, EnvelopeKind.Detail);
    }

    [Theory]
    [InlineData("{\"name\":\"\\ud800\"}")]
    [InlineData("{\"name\":\"a\\udc00b\"}")]
    [InlineData("{\"name\":\"nul\\u0000\"}")]
    [InlineData("{\"name\":\"a\",\"name\":\"b\"}")]
    [InlineData("{\"name\":1e400}")]
    [InlineData("{\"name\":[\"x\"]}")]
    public async Task A_malformed_body_is_a_400_in_the_code_envelope_and_creates_nothing(string body)
    {
        var (key, workspaceId) = await app.CreateKeyAsync(Role.Admin, "body-" + Guid.NewGuid().ToString("N")[..8]);
        var response = await app.ClientWithKey(key).PostAsync("/v1/applications", Json(body));
        await Envelope.AssertErrorAsync(response, HttpStatusCode.BadRequest, EnvelopeKind.Code);
        await using var db = await app.DbAsync();
        Assert.Equal(0, await db.Applications.CountAsync(a => a.WorkspaceId == workspaceId));
    }

    [Fact]
    public async Task Invalid_utf8_bytes_in_a_string_are_a_validation_error()
    {
        var client = await app.ClientAsync(Role.Admin, "utf8-" + Guid.NewGuid().ToString("N")[..8]);
        var bytes = Encoding.UTF8.GetBytes("{\"url\":\"https://a.example/").Concat(new byte[] { 0xC3, 0x28, 0xFF }).Concat(Encoding.UTF8.GetBytes("\"}")).ToArray();
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        await Envelope.AssertErrorAsync(await client.PostAsync("/v1/webhooks", content), HttpStatusCode.UnprocessableEntity, EnvelopeKind.Detail);
    }

    private static AuthenticationHeaderValue? AuthorizationFor(Route route, string key, Case hostile)
    {
        if (hostile.Authorization is { } given)
        {
            return given.Length == 0 ? null : new AuthenticationHeaderValue("Bearer", given);
        }

        return route.Pattern.StartsWith("/v1/telephony", StringComparison.Ordinal)
            ? new AuthenticationHeaderValue("Bearer", TelephonyToken)
            : new AuthenticationHeaderValue("Bearer", key);
    }

    private static IEnumerable<Case> CasesFor(Route route)
    {
        var path = Fill(route, _ => Guid.NewGuid().ToString());
        var writes = route.Methods.Where(m => m is "POST" or "PATCH" or "PUT" or "DELETE").ToList();
        var method = writes.FirstOrDefault() ?? route.Methods.First();

        // Encoding: bad bytes, lone surrogates, NUL, a byte order mark, other charsets.
        if (writes.Count > 0)
        {
            yield return new Case("encoding", "invalid UTF-8 in every field", method, path, Raw(InvalidUtf8InEveryField()));
            yield return new Case("encoding", "lone high surrogate", method, path, Json(Object("\"\\ud800\"")));
            yield return new Case("encoding", "lone low surrogate", method, path, Json(Object("\"x\\udfffy\"")));
            yield return new Case("encoding", "NUL in strings", method, path, Json(Object("\"a\\u0000b\"")));
            yield return new Case("encoding", "byte order mark", method, path, Raw([0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("{}")]));
            yield return new Case("encoding", "UTF-16 body", method, path, new StringContent(Object("\"x\""), Encoding.Unicode, "application/json"));
            yield return new Case("encoding", "form content type", method, path, new StringContent("url=x", Encoding.UTF8, "application/x-www-form-urlencoded"));
            yield return new Case("encoding", "xml content type", method, path, new StringContent("<a/>", Encoding.UTF8, "application/xml"));

            // Types: every field with the wrong kind of value.
            foreach (var (name, value) in new[] { ("numbers", "12345"), ("booleans", "true"), ("arrays", "[1,[2]]"), ("objects", "{\"a\":{}}"), ("nulls", "null"), ("empty strings", "\"\"") })
            {
                yield return new Case("types", name, method, path, Json(Object(value)));
            }

            yield return new Case("types", "top-level array", method, path, Json("[]"));
            yield return new Case("types", "top-level string", method, path, Json("\"x\""));
            yield return new Case("types", "top-level null", method, path, Json("null"));
            yield return new Case("types", "duplicate keys", method, path, Json("{\"url\":\"https://a.example\",\"url\":\"https://b.example\",\"name\":\"a\",\"name\":\"b\"}"));
            yield return new Case("types", "truncated JSON", method, path, Json("{\"url\": \"https://a.exa"));
            yield return new Case("types", "comments and trailing commas", method, path, Json("{/* c */ \"name\": \"a\",}"));

            // Bounds: huge and odd numbers, deep nesting, long strings, many items.
            yield return new Case("bounds", "huge numbers", method, path, Json(Object("1e400")));
            yield return new Case("bounds", "negative huge numbers", method, path, Json(Object("-99999999999999999999999999999")));
            yield return new Case("bounds", "fractions", method, path, Json(Object("0.5")));
            yield return new Case("bounds", "negative numbers", method, path, Json(Object("-1")));
            yield return new Case("bounds", "deep nesting", method, path, Json("{\"payload\":" + new string('[', 200) + new string(']', 200) + "}"));
            yield return new Case("bounds", "nesting at the limit", method, path, Json("{\"payload\":" + string.Concat(Enumerable.Repeat("{\"a\":", 62)) + "1" + new string('}', 62) + "}"));
            yield return new Case("bounds", "long strings", method, path, Json(Object(JsonSerializer.Serialize(new string('a', 20_000)))));
            yield return new Case("bounds", "many list items", method, path, Json(Object("[" + string.Join(",", Enumerable.Range(0, 5000).Select(i => $"\"e{i}\"")) + "]")));
            yield return new Case("bounds", "timestamps out of range", method, path, Json(Object("\"9999-12-31T23:59:59.9999999+14:00\"")));

            // Sizes: empty, whitespace, over the limit.
            yield return new Case("sizes", "empty body", method, path, Json(""));
            yield return new Case("sizes", "whitespace body", method, path, Json("   \n "));
            yield return new Case("sizes", "2 MiB body", method, path, Json("{\"payload\":{\"x\":\"" + new string('x', 2 * 1024 * 1024) + "\"}}"));
            yield return new Case("sizes", "5 MiB body", method, path, Json("{\"payload\":{\"x\":\"" + new string('x', 5 * 1024 * 1024) + "\"}}"));
            yield return new Case("sizes", "2 MiB body without a length", method, path, UnsizedContent.Of(Json("{\"payload\":{\"x\":\"" + new string('x', 2 * 1024 * 1024) + "\"}}")));
            yield return new Case("sizes", "a 1.5 MB event among ten", method, path,
                Json("{\"events\":[" + string.Join(",", Enumerable.Range(0, 10).Select(i => "{\"eventType\":\"batch.test\",\"payload\":{\"pad\":\"" + new string('x', i == 3 ? 1_500_000 : 10) + "\"}}")) + "]}"));
        }

        // Methods: every method the route does not take.
        foreach (var other in new[] { "GET", "POST", "PUT", "PATCH", "DELETE" }.Except(route.Methods))
        {
            yield return new Case("methods", other, other, path, other is "GET" or "DELETE" ? null : Json("{}"));
        }

        // Path ids: every route value replaced by hostile text.
        if (route.Parameters.Length > 0)
        {
            foreach (var (name, value) in new[]
            {
                ("not an id", "x"), ("encoded surrogate", "%ED%A0%80"), ("invalid UTF-8", "%C3%28"), ("traversal", "..%2F..%2Fetc"),
                ("SQL", "1'%20OR%20'1'%3D'1"), ("long", new string('9', 4000)), ("unicode", "%C3%A9%E2%82%AC"), ("call id", "call_" + Guid.NewGuid()),
                ("negative", "-1"), ("uuid braces", "%7B" + Guid.NewGuid() + "%7D"), ("spaces", "%20%20"),
            })
            {
                foreach (var m in route.Methods)
                {
                    yield return new Case("path ids", name, m, Fill(route, _ => value), m is "GET" or "DELETE" ? null : Json("{}"));
                }
            }
        }

        // Query strings on every method.
        foreach (var (name, query) in new[]
        {
            ("negative", "limit=-1&offset=-1&page=-1&per_page=-1&page_size=-1&hours=-1"),
            ("letters", "limit=abc&offset=x&page=y&per_page=z&hours=h&order_desc=maybe"),
            ("overflow", "limit=99999999999999999999&offset=99999999999999999999&page=99999999999999999999&hours=1e9"),
            ("fractions", "limit=1.5&page=0.5&hours=2.5"),
            ("max", $"offset={int.MaxValue}&page={int.MaxValue}&limit=100&per_page=100&page_size=100"),
            ("NUL", "status=%00&search=a%00b&source_session_id=%00&time_period=%00"),
            ("invalid UTF-8", "status=%C3%28&search=%FF%FE&order_by=%ED%A0%80"),
            ("repeated", "limit=1&limit=2&status=failed&status=x"),
            ("enums", "status=DROP%20TABLE&time_period=forever&order_by=password&channel=fax"),
            ("dates", "time_period=custom&start_date=2026-13-45&end_date=yesterday"),
            ("calendar edges", "time_period=custom&start_date=0001-01-01&end_date=9999-12-31&from=0001-01-01&to=9999-12-31"),
            ("long", "search=" + new string('a', 6000)),
        })
        {
            foreach (var m in route.Methods)
            {
                yield return new Case("query strings", name, m, path + "?" + query, m is "GET" or "DELETE" ? null : Json("{}"));
            }
        }

        // Authorization: none, malformed, unknown.
        foreach (var (name, value) in new[] { ("none", ""), ("garbage", "not-a-key"), ("unknown key", "dck_" + new string('A', 32)) })
        {
            yield return new Case("auth", name, method, path, method is "GET" or "DELETE" ? null : Json("{}"), value);
        }
    }

    private static string Fill(Route route, Func<string, string> value)
    {
        var path = route.Pattern;
        foreach (var parameter in route.Parameters)
        {
            path = path.Replace("{" + parameter + "}", value(parameter), StringComparison.Ordinal);
        }

        return path;
    }

    private static string Object(string value) => "{" + string.Join(",", Fields.Select(f => $"\"{f}\":{value}")) + "}";

    /// <summary>Every field a string holding bytes that are not UTF-8 (an overlong lead, a stray continuation, 0xFF).</summary>
    private static byte[] InvalidUtf8InEveryField()
    {
        var body = new List<byte> { (byte)'{' };
        foreach (var field in Fields)
        {
            body.AddRange(Encoding.UTF8.GetBytes($"\"{field}\":\"a"));
            body.AddRange([0xC3, 0x28, 0xFF, 0x80]);
            body.AddRange(Encoding.UTF8.GetBytes("\","));
        }

        body.RemoveAt(body.Count - 1);
        body.Add((byte)'}');
        return [.. body];
    }

    private static ByteArrayContent Raw(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");


    private static string Cut(string text) => text.Length > 300 ? text[..300] + "…" : text;

    private static string? EnvelopeProblem(ErrorEnvelope envelope, HttpResponseMessage response, string text)
    {
        if (response.Content.Headers.ContentType?.MediaType != "application/json")
        {
            return $"content type {response.Content.Headers.ContentType}";
        }

        JsonElement root;
        try
        {
            root = JsonDocument.Parse(text).RootElement;
        }
        catch (JsonException)
        {
            return "not JSON";
        }

        if (text.Contains("   at ", StringComparison.Ordinal))
        {
            return "stack trace";
        }

        var names = root.ValueKind == JsonValueKind.Object ? root.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray() : [];
        var status = (int)response.StatusCode;
        if (envelope == ErrorEnvelope.Detail || envelope == ErrorEnvelope.DetailSnake)
        {
            return names.SequenceEqual(["detail"]) && (root.GetProperty("detail").ValueKind == JsonValueKind.String || status == 422) ? null : "expected {detail}";
        }

        if (envelope == ErrorEnvelope.SuccessFalse)
        {
            return names.SequenceEqual(["error", "success"]) && !root.GetProperty("success").GetBoolean()
                && root.GetProperty("error").ValueKind == JsonValueKind.Object ? null : "expected {success:false, error:{code,message}}";
        }

        // A refused batch adds the bad items: {"error", "code", "items": [{"index", "error"}]}.
        return (names.SequenceEqual(["code", "error"]) || names.SequenceEqual(["code", "error", "items"])) && root.GetProperty("code").GetString() == Envelope.CodeFor(response.StatusCode)
            ? null
            : "expected {error, code}";
    }

    private async Task<long[]> CountsAsync(Guid workspaceId)
    {
        await using var db = await app.DbAsync();
        return
        [
            await db.Events.LongCountAsync(e => e.WorkspaceId == workspaceId),
            await db.Deliveries.LongCountAsync(d => d.WorkspaceId == workspaceId),
            await db.WebhookEndpoints.LongCountAsync(e => e.WorkspaceId == workspaceId),
            await db.Applications.LongCountAsync(a => a.WorkspaceId == workspaceId),
            await db.Campaigns.LongCountAsync(c => c.WorkspaceId == workspaceId),
            await db.Calls.LongCountAsync(c => c.WorkspaceId == workspaceId),
            await db.Callbacks.LongCountAsync(c => c.WorkspaceId == workspaceId),
            await db.ApiKeys.LongCountAsync(k => k.WorkspaceId == workspaceId),
            await db.AuditEntries.LongCountAsync(a => a.WorkspaceId == workspaceId),
        ];
    }
}
