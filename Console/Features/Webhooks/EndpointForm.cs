namespace DeliveryConsole.Features.Webhooks;

/// <summary>What the endpoint dialog asks: scope and owner (create only), URL and event types (empty: all).</summary>
public sealed record EndpointForm(EndpointScope Scope, Guid? OwnerId, string Url, IReadOnlyList<string> EventTypes);
