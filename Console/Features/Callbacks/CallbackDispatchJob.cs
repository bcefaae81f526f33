namespace DeliveryConsole.Features.Callbacks;

/// <summary>
/// Fires at a callback's scheduled_at and dispatches it, if it is still scheduled. Safe to run
/// twice or late: the dispatch claims the row first, and a cancelled callback is left alone.
/// </summary>
public sealed class CallbackDispatchJob(CallbackService callbacks)
{
    public Task RunAsync(Guid workspaceId, string callbackId, CancellationToken cancellationToken) =>
        callbacks.DispatchDueAsync(workspaceId, callbackId, cancellationToken);
}
