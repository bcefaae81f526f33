using System.Runtime.CompilerServices;

namespace DeliveryConsole.Infrastructure.Api;

/// <summary>One API group: a URL prefix, the envelope its errors are written in, its OpenAPI tag.</summary>
public sealed record ApiGroup(string Prefix, ErrorEnvelope Envelope, string Tag)
{
    public bool Contains(PathString path) => path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase);
}

/// <summary>
/// Every API group of the console, one per URL prefix (API-CONTRACT.md). Features map their routes
/// into these; the fallback error writer finds a path's envelope here, so errors raised before a
/// handler runs (405, 404 under a prefix, 415, 400 from a bad route value) keep the group's shape.
/// </summary>
public static class ApiGroups
{
    public static readonly ApiGroup AccountWebhooks = new("/v1/webhooks", ErrorEnvelope.Detail, "Account webhooks");
    public static readonly ApiGroup Applications = new("/v1/applications", ErrorEnvelope.Code, "Applications");
    public static readonly ApiGroup Events = new("/v1/events", ErrorEnvelope.Code, "Events");
    public static readonly ApiGroup ApiKeys = new("/v1/api-keys", ErrorEnvelope.Code, "API keys");
    public static readonly ApiGroup PortalLinks = new("/v1/portal-links", ErrorEnvelope.Code, "Portal links");
    public static readonly ApiGroup Callbacks = new("/v1/callbacks", ErrorEnvelope.CodeSnake, "Callbacks");
    public static readonly ApiGroup Calls = new("/api/v1/calls", ErrorEnvelope.DetailSnake, "Calls");
    public static readonly ApiGroup Campaigns = new("/api/v1/campaigns", ErrorEnvelope.SuccessFalse, "Campaigns");
    public static readonly ApiGroup System = new("/v1/system", ErrorEnvelope.Code, "System");

    public static readonly IReadOnlyList<ApiGroup> All = [AccountWebhooks, Applications, Events, ApiKeys, PortalLinks, Callbacks, Calls, Campaigns, System];

    /// <summary>Routes under /v1 that take no API key (the provider's token, a signed link); their errors are <c>{"detail"}</c>.</summary>
    public static readonly IReadOnlyList<ApiGroup> Unkeyed =
    [
        new("/v1/telephony", ErrorEnvelope.Detail, "Telephony"),
        new("/v1/recordings", ErrorEnvelope.Detail, "Recordings"),
    ];

    private static readonly ConditionalWeakTable<IEndpointRouteBuilder, Dictionary<string, RouteGroupBuilder>> Mapped = new();

    /// <summary>The group of a path, or null outside every group.</summary>
    public static ApiGroup? For(PathString path) => All.FirstOrDefault(g => g.Contains(path));

    /// <summary>
    /// The envelope of errors for a path under the API: its group's, and for an unknown path under
    /// <c>/v1</c> the applications' shape (<c>{error, code}</c>), under <c>/api/v1</c> the calls' (<c>{detail}</c>).
    /// </summary>
    public static ErrorEnvelope? EnvelopeFor(PathString path) =>
        For(path)?.Envelope
        ?? Unkeyed.FirstOrDefault(g => g.Contains(path))?.Envelope
        ?? (path.StartsWithSegments("/api/v1", StringComparison.OrdinalIgnoreCase) ? ErrorEnvelope.Detail
            : path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase) ? ErrorEnvelope.Code
            : null);

    /// <summary>The one route group of <paramref name="group"/> on these routes, made an API group the first time.</summary>
    public static RouteGroupBuilder MapApiGroup(this IEndpointRouteBuilder routes, ApiGroup group)
    {
        var groups = Mapped.GetOrCreateValue(routes);
        lock (groups)
        {
            if (!groups.TryGetValue(group.Prefix, out var builder))
            {
                builder = ApiGroupExtensions.CreateApiGroup(routes, group);
                groups.Add(group.Prefix, builder);
            }

            return builder;
        }
    }
}
