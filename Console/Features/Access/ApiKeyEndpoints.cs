using System.ComponentModel.DataAnnotations;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Api;
using Microsoft.AspNetCore.Http.HttpResults;

namespace DeliveryConsole.Features.Access;

/// <summary>/v1/api-keys: admin only; the key itself appears once, in the 201 answer.</summary>
public static class ApiKeyEndpoints
{
    public static IEndpointRouteBuilder MapApiKeyApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapApiGroup(ApiGroups.ApiKeys);
        group.MapPost("/", CreateKey).WithName("CreateApiKey").WithSummary("Creates an API key; the key is in this answer only")
            .Accepts<CreateKeyRequest>("application/json").Produces<KeyResponse>(StatusCodes.Status201Created);
        group.MapGet("/", ListKeys).WithName("ListApiKeys").WithSummary("API keys of the workspace (prefixes, never keys)").Produces<DataList<KeyResponse>>();
        group.MapDelete("/{id}", RevokeKey).WithName("RevokeApiKey").WithSummary("Revokes an API key at once");
        return routes;
    }

    public sealed record CreateKeyRequest([property: Required, AllowedValues("viewer", "operator", "admin")] string Role, [property: MaxLength(100)] string? Name);

    public sealed record KeyResponse(Guid Id, string Name, string Prefix, string Role, DateTime CreatedAt, string? CreatedBy, DateTime? LastUsedAt, DateTime? RevokedAt, string? Key = null)
    {
        public static KeyResponse From(ApiKeyView view, string? key = null) =>
            new(view.Id, view.Name, view.Prefix, view.Role.ToWire(), view.CreatedAt, view.CreatedBy, view.LastUsedAt, view.RevokedAt, key);
    }

    public static async Task<JsonHttpResult<KeyResponse>> CreateKey(HttpContext http, ApiKeyService keys)
    {
        var caller = http.Caller();
        caller.Require(Role.Admin);
        var body = await JsonBody.ReadAsync(http.Request);
        var name = body.String("name", maxLength: 100);
        var roleText = body.String("role", required: true, maxLength: 20);
        var role = Role.Viewer;
        if (roleText is not null && !Roles.TryParse(roleText, out role))
        {
            body.Fail("role", $"Input should be one of: {Roles.AllowedList}", "enum");
        }

        body.ThrowIfInvalid();
        var created = await keys.CreateAsync(caller, name, role, http.RequestAborted);
        return TypedResults.Json(KeyResponse.From(created.Key, created.PlainTextKey), ApiJson.CamelCase, statusCode: StatusCodes.Status201Created);
    }

    public static async Task<JsonHttpResult<DataList<KeyResponse>>> ListKeys(HttpContext http, ApiKeyService keys)
    {
        var list = await keys.ListAsync(http.Caller(), http.RequestAborted);
        return TypedResults.Json(new DataList<KeyResponse>(list.Select(k => KeyResponse.From(k)).ToList()), ApiJson.CamelCase);
    }

    public static async Task<NoContent> RevokeKey(HttpContext http, string id, ApiKeyService keys)
    {
        var caller = http.Caller();
        caller.Require(Role.Admin);
        if (!Guid.TryParse(id, out var keyId))
        {
            throw new NotFoundException("API key not found.");
        }

        await keys.RevokeAsync(caller, keyId, http.RequestAborted);
        return TypedResults.NoContent();
    }
}
