using DeliveryConsole.Features.Deliveries.Engine;

namespace DeliveryConsole.Features.Webhooks.Pages;

/// <summary>A "Send test" in flight, its answer, or why it could not be sent.</summary>
public sealed record WebhookTestState(bool Running, WebhookTestResult? Result, string? Error);
