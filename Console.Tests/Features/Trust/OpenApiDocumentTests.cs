using System.Net;
using System.Text.RegularExpressions;
using DeliveryConsole.Infrastructure.Api;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.OpenApi;
using Microsoft.OpenApi.Reader;

namespace DeliveryConsole.Tests.Features.Trust;

/// <summary>
/// /openapi/v1.json read back with Microsoft.OpenApi: every API operation has its parameters,
/// its request body, its 2xx answer and its errors in its group's envelope, named as on the wire.
/// </summary>
public sealed partial class OpenApiDocumentTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    /// <summary>Writes that take no body: the action is the whole request.</summary>
    private static readonly HashSet<string> Bodiless = ["TestWebhook", "ResendApplicationDelivery", "DispatchCallback", "JoinCall", "EndCall"];

    private async Task<OpenApiDocument> LoadAsync()
    {
        var response = await app.CreateClient().GetAsync("/openapi/v1.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        var result = OpenApiDocument.Parse(text, "json", new OpenApiReaderSettings());
        Assert.NotNull(result.Document);
        Assert.Empty(result.Diagnostic?.Errors ?? []);
        return result.Document!;
    }

    private static IEnumerable<(string Path, HttpMethod Method, OpenApiOperation Operation, ApiGroup Group)> ApiOperations(OpenApiDocument document) =>
        from path in document.Paths
        let @group = ApiGroups.For(path.Key)
        where @group is not null
        from operation in path.Value.Operations ?? []
        select (path.Key, operation.Key, operation.Value, @group);

    [Fact]
    public async Task Every_operation_has_parameters_body_answer_errors_and_the_bearer_key()
    {
        var document = await LoadAsync();
        var operations = ApiOperations(document).ToList();
        Assert.True(operations.Count >= 37, $"only {operations.Count} operations documented");
        var problems = new List<string>();
        foreach (var (path, method, operation, group) in operations)
        {
            var name = $"{method} {path} ({operation.OperationId})";
            if (string.IsNullOrWhiteSpace(operation.Summary))
            {
                problems.Add($"{name}: no summary");
            }

            foreach (Match parameter in RouteParameter().Matches(path))
            {
                if (operation.Parameters?.Any(p => p.In == ParameterLocation.Path && p.Name == parameter.Groups[1].Value && p.Required) != true)
                {
                    problems.Add($"{name}: path parameter {parameter.Groups[1].Value} not described");
                }
            }

            var success = operation.Responses?.Where(r => r.Key.StartsWith('2')).ToList() ?? [];
            if (success.Count == 0)
            {
                problems.Add($"{name}: no 2xx answer");
            }

            foreach (var (status, answer) in success.Where(s => s.Key != "204"))
            {
                if (answer.Content is not { Count: > 0 } content || content.Values.Any(c => c.Schema is null))
                {
                    problems.Add($"{name}: {status} has no schema");
                }
                else if (content.TryGetValue("application/json", out var json) && json.Schema!.Properties is not { Count: > 0 })
                {
                    problems.Add($"{name}: {status} schema has no properties");
                }
            }

            if ((method == HttpMethod.Post || method == HttpMethod.Patch) && !Bodiless.Contains(operation.OperationId!))
            {
                var body = Get(operation.RequestBody?.Content, "application/json")?.Schema;
                if (body?.Properties is not { Count: > 0 })
                {
                    problems.Add($"{name}: no request body schema");
                }
            }

            foreach (var status in new[] { "401", "403", "404", "429" }.Concat(group.Envelope == ErrorEnvelope.Detail || group.Envelope == ErrorEnvelope.DetailSnake ? ["422"] : ["400"]))
            {
                var schema = Get(Get(operation.Responses, status)?.Content, "application/json")?.Schema;
                var fields = schema?.Properties?.Keys.Order(StringComparer.Ordinal).ToArray() ?? [];
                string[] expected = group.Envelope == ErrorEnvelope.SuccessFalse ? ["error", "success"]
                    : group.Envelope == ErrorEnvelope.Code || group.Envelope == ErrorEnvelope.CodeSnake ? ["code", "error"]
                    : ["detail"];
                if (!fields.SequenceEqual(expected))
                {
                    problems.Add($"{name}: {status} is [{string.Join(",", fields)}], not the group's [{string.Join(",", expected)}]");
                }
            }

            if (operation.Security is not { Count: > 0 })
            {
                problems.Add($"{name}: no security requirement");
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
        Assert.Equal(SecuritySchemeType.Http, document.Components!.SecuritySchemes!["bearer"].Type);
    }

    [Fact]
    public async Task Query_parameters_carry_their_bounds_and_defaults()
    {
        var document = await LoadAsync();
        var list = document.Paths["/v1/webhooks/deliveries"].Operations![HttpMethod.Get];
        var limit = list.Parameters!.Single(p => p.Name == "limit");
        Assert.Equal(ParameterLocation.Query, limit.In);
        Assert.Equal(JsonSchemaType.Integer, limit.Schema!.Type);
        Assert.Equal("1", limit.Schema.Minimum);
        Assert.Equal("100", limit.Schema.Maximum);
        Assert.Equal("50", limit.Schema.Default!.ToJsonString());
        Assert.Equal(["hours", "limit", "offset"], list.Parameters!.Select(p => p.Name).Order());

        var calls = document.Paths["/api/v1/calls"].Operations![HttpMethod.Get];
        Assert.Contains("created_at", calls.Parameters!.Single(p => p.Name == "order_by").Schema!.Enum!.Select(e => e.GetValue<string>()));
        Assert.Equal("date", calls.Parameters!.Single(p => p.Name == "start_date").Schema!.Format);
        Assert.Equal("true", calls.Parameters!.Single(p => p.Name == "order_desc").Schema!.Default!.ToJsonString());

        // Applications cap a larger limit instead of refusing it: no maximum, said in words.
        var applicationLimit = document.Paths["/v1/applications/{id}/deliveries"].Operations![HttpMethod.Get].Parameters!.Single(p => p.Name == "limit");
        Assert.Null(applicationLimit.Schema!.Maximum);
        Assert.Contains("capped", applicationLimit.Description);
    }

    [Fact]
    public async Task Schemas_name_fields_as_the_wire_does()
    {
        var document = await LoadAsync();
        IOpenApiSchema Answer(string path, HttpMethod method, string status = "200") =>
            document.Paths[path].Operations![method].Responses![status].Content!["application/json"].Schema!;

        Assert.Contains("call_direction", Answer("/api/v1/calls/{id}", HttpMethod.Get).Properties!.Keys);
        Assert.Equal(["data", "pagination"], Answer("/api/v1/calls", HttpMethod.Get).Properties!.Keys.Order());
        Assert.Contains("has_next", Answer("/api/v1/calls", HttpMethod.Get).Properties!["pagination"].Properties!.Keys);
        Assert.Equal(["callbacks"], Answer("/v1/callbacks", HttpMethod.Get).Properties!.Keys);
        Assert.Contains("to_number", document.Paths["/v1/callbacks"].Operations![HttpMethod.Post].RequestBody!.Content!["application/json"].Schema!.Properties!.Keys);
        Assert.Equal(["items", "limit", "offset", "total"], Answer("/v1/webhooks/deliveries", HttpMethod.Get).Properties!.Keys.Order());
        Assert.Contains("messageId", Answer("/v1/webhooks/deliveries", HttpMethod.Get).Properties!["items"].Items!.Properties!.Keys);
        Assert.Equal(["data", "pagination", "success"], Answer("/api/v1/campaigns/{campaignId}/webhooks/{webhookId}/logs", HttpMethod.Get).Properties!.Keys.Order());
        Assert.Contains("duration_ms", Answer("/api/v1/campaigns/{campaignId}/webhooks/{webhookId}/logs", HttpMethod.Get).Properties!["data"].Items!.Properties!.Keys);
        Assert.Equal(["eventId", "deliveryIds"], Answer("/v1/events", HttpMethod.Post, "202").Properties!.Keys);
        var validation = document.Paths["/v1/webhooks"].Operations![HttpMethod.Post].Responses!["422"].Content!["application/json"].Schema!;
        Assert.Equal(["loc", "msg", "type"], validation.Properties!["detail"].Items!.Properties!.Keys.Order());
    }

    private static T? Get<T>(IDictionary<string, T>? items, string key) where T : class =>
        items is not null && items.TryGetValue(key, out var value) ? value : null;

    [GeneratedRegex(@"\{([^}]+)\}")]
    private static partial Regex RouteParameter();
}
