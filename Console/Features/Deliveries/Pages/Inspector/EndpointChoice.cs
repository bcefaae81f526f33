using DeliveryConsole.Features.Webhooks;

namespace DeliveryConsole.Features.Deliveries.Pages.Inspector;

/// <summary>One entry of the inspector's endpoint picker: a scope ("any campaign webhook") or one endpoint, by its owner's name and URL.</summary>
public sealed record EndpointChoice(string Key, string Name, string? Url, bool Disabled)
{
    public string Label => Url is null ? Name : $"{Name} · {Host}";

    public string Host => Url is not null && Uri.TryCreate(Url, UriKind.Absolute, out var uri) ? uri.Host : Url ?? "";

    public static readonly IReadOnlyList<EndpointChoice> Scopes =
    [
        new("scope:master", "Master webhook (any)", null, false),
        new("scope:application", "Any application finishedUrl", null, false),
        new("scope:campaign", "Any campaign webhook", null, false),
    ];

    public static EndpointChoice Of((WebhookEndpoint Endpoint, string OwnerName) named) =>
        new($"id:{named.Endpoint.Id}", named.OwnerName, named.Endpoint.Url, named.Endpoint.Status == EndpointStatus.Disabled);

    /// <summary>Whether the text the user typed names this choice: its owner, its URL or its host.</summary>
    public bool Matches(string? text) =>
        string.IsNullOrWhiteSpace(text)
        || Name.Contains(text.Trim(), StringComparison.OrdinalIgnoreCase)
        || Label.Contains(text.Trim(), StringComparison.OrdinalIgnoreCase)
        || (Url?.Contains(text.Trim(), StringComparison.OrdinalIgnoreCase) ?? false);
}
