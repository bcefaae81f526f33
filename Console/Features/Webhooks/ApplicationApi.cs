using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Api;

namespace DeliveryConsole.Features.Webhooks;

/// <summary>Group 2 (reference/application-deliveries.txt): applications. Errors as <c>{"error", "code"}</c>.</summary>
public static class ApplicationApi
{
    public static RouteGroupBuilder MapApplicationApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapApiGroup(ApiGroups.Applications);
        group.MapPost("/", CreateApplication).WithName("CreateApplication")
            .WithSummary("Creates an application; a finishedUrl becomes its endpoint (signingSecret shown once)")
            .Accepts<CreateApplicationRequest>("application/json").Produces<ApplicationWriteResponse>(StatusCodes.Status201Created);
        group.MapGet("/", ListApplications).WithName("ListApplications").WithSummary("Applications, newest first").Produces<DataList<ApplicationResponse>>();
        group.MapGet("/{id}", GetApplication).WithName("GetApplication").WithSummary("One application").Produces<ApplicationResponse>();
        group.MapPatch("/{id}", UpdateApplication).WithName("UpdateApplication")
            .WithSummary("Renames an application or sets or clears its finishedUrl")
            .Accepts<UpdateApplicationRequest>("application/json").Produces<ApplicationWriteResponse>();
        group.MapDelete("/{id}", DeleteApplication).WithName("DeleteApplication")
            .WithSummary("Deletes an application and its endpoint; history stays").Produces(StatusCodes.Status204NoContent);
        return group;
    }

    public sealed record CreateApplicationRequest([property: Required, MaxLength(200)] string Name, [property: MaxLength(EndpointUrl.MaxLength)] string? FinishedUrl);

    /// <summary>Each field is optional; finishedUrl null (or "") clears the endpoint.</summary>
    public sealed record UpdateApplicationRequest([property: MaxLength(200)] string? Name, [property: MaxLength(EndpointUrl.MaxLength)] string? FinishedUrl);

    public sealed record ApplicationResponse(Guid Id, string Name, string? FinishedUrl, DateTime CreatedAt)
    {
        public static ApplicationResponse From(ApplicationView a) => new(a.Id, a.Name, a.FinishedUrl, a.CreatedAt);
    }

    /// <summary>Write answers add the finishedUrl endpoint's signing secret, the one time it exists in clear.</summary>
    public sealed record ApplicationWriteResponse(Guid Id, string Name, string? FinishedUrl, DateTime CreatedAt, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? SigningSecret);

    /// <summary>Application ids are UUIDs: anything else is a bad request (400), as the reference says.</summary>
    public static Guid ParseId(string id, string name = "id") =>
        Guid.TryParse(id, out var parsed) ? parsed : throw new DeliveryConsole.Infrastructure.ValidationException("path", name, $"{name} is not a valid UUID", "uuid_parsing");

    public static async Task<IResult> CreateApplication(HttpContext http, ApplicationService applications)
    {
        var caller = http.Caller();
        caller.Require(Access.Role.Admin);
        var body = await JsonBody.ReadAsync(http.Request);
        var name = body.String("name", required: true, maxLength: 200);
        var finishedUrl = body.String("finishedUrl", maxLength: EndpointUrl.MaxLength);
        body.ThrowIfInvalid();
        var result = await applications.CreateAsync(caller, name!, finishedUrl, http.RequestAborted);
        return TypedResults.Json(ToResponse(result), ApiJson.CamelCase, statusCode: StatusCodes.Status201Created);
    }

    public static async Task<IResult> ListApplications(HttpContext http, ApplicationService applications)
    {
        var items = await applications.ListAsync(http.Caller(), http.RequestAborted);
        return TypedResults.Json(new DataList<ApplicationResponse>(items.Select(ApplicationResponse.From).ToList()), ApiJson.CamelCase);
    }

    public static async Task<IResult> GetApplication(HttpContext http, string id, ApplicationService applications)
    {
        var caller = http.Caller();
        var application = await applications.GetAsync(caller, ParseId(id), http.RequestAborted);
        return TypedResults.Json(ApplicationResponse.From(application), ApiJson.CamelCase);
    }

    public static async Task<IResult> UpdateApplication(HttpContext http, string id, ApplicationService applications)
    {
        var caller = http.Caller();
        caller.Require(Access.Role.Admin);
        var applicationId = ParseId(id);
        var body = await JsonBody.ReadAsync(http.Request);
        var name = body.String("name", maxLength: 200);
        var setUrl = body.Root.TryGetProperty("finishedUrl", out _);
        var finishedUrl = body.String("finishedUrl", maxLength: EndpointUrl.MaxLength);
        body.ThrowIfInvalid();
        var result = await applications.UpdateAsync(caller, applicationId, name, setUrl, string.IsNullOrEmpty(finishedUrl) ? null : finishedUrl, http.RequestAborted);
        return TypedResults.Json(ToResponse(result), ApiJson.CamelCase);
    }

    public static async Task<IResult> DeleteApplication(HttpContext http, string id, ApplicationService applications)
    {
        var caller = http.Caller();
        caller.Require(Access.Role.Admin);
        await applications.DeleteAsync(caller, ParseId(id), http.RequestAborted);
        return TypedResults.NoContent();
    }

    private static ApplicationWriteResponse ToResponse(ApplicationWriteResult result) =>
        new(result.Application.Id, result.Application.Name, result.Application.FinishedUrl, result.Application.CreatedAt, result.SigningSecret);
}
