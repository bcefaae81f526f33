using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace DeliveryConsole.Infrastructure.Api;

/// <summary>Marks a request or response record whose fields travel in snake_case (calls, callbacks, campaign logs).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class SnakeCaseWireAttribute : Attribute;

/// <summary>The error bodies of the groups, as the OpenAPI document describes them.</summary>
public static class ErrorBodies
{
    /// <summary><c>{"detail": "…"}</c> (account webhooks, calls).</summary>
    public sealed record DetailError(string Detail);

    /// <summary>One problem of a 422: where, what and its kind.</summary>
    public sealed record ValidationItem(IReadOnlyList<string> Loc, string Msg, string Type);

    /// <summary><c>{"detail": [{"loc", "msg", "type"}]}</c>, a 422 of account webhooks and calls.</summary>
    public sealed record DetailValidationError(IReadOnlyList<ValidationItem> Detail);

    /// <summary><c>{"error": "…", "code": "NOT_FOUND"}</c> (applications, events, API keys, callbacks).</summary>
    public sealed record CodeError(string Error, string Code);

    public sealed record ErrorBody(string Code, string Message);

    /// <summary><c>{"success": false, "error": {"code", "message"}}</c> (campaigns).</summary>
    public sealed record SuccessFalseError(bool Success, ErrorBody Error);

    /// <summary>The statuses every route of a group may answer with an error body, and that body.</summary>
    public static IEnumerable<(int Status, Type Body)> For(ErrorEnvelope envelope)
    {
        int[] common = [401, 403, 404, 409, 413, 415, 429];
        if (envelope == ErrorEnvelope.Detail || envelope == ErrorEnvelope.DetailSnake)
        {
            return common.Select(s => (s, typeof(DetailError))).Append((422, typeof(DetailValidationError)));
        }

        var body = envelope == ErrorEnvelope.SuccessFalse ? typeof(SuccessFalseError) : typeof(CodeError);
        return common.Prepend(400).Select(s => (s, body));
    }
}

/// <summary>
/// The OpenAPI document at /openapi/v1.json: every operation with its parameters (bounds and
/// defaults from the same <see cref="QueryParam"/> definitions the handlers read), its request
/// body, its 2xx answer and its errors in its group's envelope, field names as on the wire, and
/// the bearer API key. Integrators generate clients from it.
/// </summary>
public static class ApiDocument
{
    public const string BearerScheme = "bearer";

    public static IServiceCollection AddApiDocument(this IServiceCollection services) => services.AddOpenApi(options =>
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info = new OpenApiInfo
            {
                Title = "Delivery Console API",
                Version = "v1",
                Description = "Webhook deliveries, endpoints, events, calls and callbacks of one workspace (the API key's). "
                    + "Each group keeps the error envelope of its reference document.",
            };
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API key (dck_…) from Settings › API keys or `keys create`, as Authorization: Bearer <key>.",
            };
            return Task.CompletedTask;
        });

        options.AddOperationTransformer((operation, context, _) =>
        {
            var metadata = context.Description.ActionDescriptor.EndpointMetadata;
            foreach (var parameter in metadata.OfType<QueryParam>())
            {
                operation.Parameters ??= [];
                operation.Parameters.Add(ToOpenApi(parameter));
            }

            if (metadata.OfType<ErrorEnvelope>().Any())
            {
                operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] }];
            }

            return Task.CompletedTask;
        });

        options.AddSchemaTransformer((schema, context, _) =>
        {
            // Request bodies: required are the fields marked [Required], not every positional parameter.
            if (context.JsonPropertyInfo is null && context.JsonTypeInfo.Type.Name.EndsWith("Request", StringComparison.Ordinal) && schema.Properties is { Count: > 0 })
            {
                schema.Required = context.JsonTypeInfo.Properties
                    .Where(p => p.AttributeProvider?.IsDefined(typeof(System.ComponentModel.DataAnnotations.RequiredAttribute), true) == true)
                    .Select(p => p.Name)
                    .ToHashSet();
            }

            // Records of snake_case groups: the document names their fields as the wire does.
            if (context.JsonTypeInfo.Type.GetCustomAttribute<SnakeCaseWireAttribute>() is not null && schema.Properties is { Count: > 0 } properties)
            {
                schema.Properties = properties.ToDictionary(p => JsonNamingPolicy.SnakeCaseLower.ConvertName(p.Key), p => p.Value);
                if (schema.Required is { Count: > 0 } required)
                {
                    schema.Required = required.Select(JsonNamingPolicy.SnakeCaseLower.ConvertName).ToHashSet();
                }
            }

            return Task.CompletedTask;
        });
    });

    /// <summary>Adds the group's error answers to every route of it.</summary>
    public static RouteGroupBuilder WithErrorResponses(this RouteGroupBuilder group, ErrorEnvelope envelope)
    {
        foreach (var (status, body) in ErrorBodies.For(envelope))
        {
            group.WithMetadata(new ProducesResponseTypeMetadata(status, body, ["application/json"]));
        }

        return group;
    }

    private static OpenApiParameter ToOpenApi(QueryParam parameter)
    {
        var schema = new OpenApiSchema
        {
            Type = parameter.Kind switch
            {
                QueryParamKind.Integer => JsonSchemaType.Integer,
                QueryParamKind.Boolean => JsonSchemaType.Boolean,
                _ => JsonSchemaType.String,
            },
            Format = parameter.Kind switch
            {
                QueryParamKind.Integer => "int32",
                QueryParamKind.Date => "date",
                _ => null,
            },
            Minimum = parameter.Minimum?.ToString(CultureInfo.InvariantCulture),
            Maximum = parameter.Maximum is { } max && !parameter.CapAtMaximum ? max.ToString(CultureInfo.InvariantCulture) : null,
            MaxLength = parameter.MaxLength,
            Default = parameter.Default is null ? null
                : parameter.Kind switch
                {
                    QueryParamKind.Integer => JsonValue.Create(int.Parse(parameter.Default, CultureInfo.InvariantCulture)),
                    QueryParamKind.Boolean => JsonValue.Create(parameter.Default == "true"),
                    _ => JsonValue.Create(parameter.Default),
                },
            Enum = parameter.Values?.Select(v => (JsonNode)JsonValue.Create(v)!).ToList(),
        };
        var description = parameter.CapAtMaximum && parameter.Maximum is { } cap ? $"{parameter.Description} Values above {cap} are capped to {cap}." : parameter.Description;
        return new OpenApiParameter { Name = parameter.Name, In = ParameterLocation.Query, Description = description, Required = false, Schema = schema };
    }
}
