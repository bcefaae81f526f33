using DeliveryConsole.Features.Deliveries.Live;
using Microsoft.AspNetCore.Components;

namespace DeliveryConsole.Components.Shared;

/// <summary>
/// A page that follows its workspace live: after <see cref="FollowChanges"/>, every committed change
/// to the workspace's deliveries, calls or callbacks (this node's and, on PostgreSQL, other nodes')
/// runs the page's reload on its own render context, at most once per delay however many changes
/// arrive. Disposing the page stops it.
/// </summary>
public abstract class LivePage : ComponentBase, IDisposable
{
    private DebouncedSubscription? _subscription;

    [Inject] private DeliveryNotifier LiveChanges { get; set; } = default!;

    /// <summary>Starts (or restarts) following <paramref name="workspaceId"/>; <paramref name="onChange"/> then re-renders the page itself.</summary>
    protected void FollowChanges(Guid workspaceId, TimeSpan delay, Func<Task> onChange)
    {
        _subscription?.Dispose();
        _subscription = new DebouncedSubscription(LiveChanges, workspaceId, delay, () => InvokeAsync(async () =>
        {
            await onChange();
            StateHasChanged();
        }));
    }

    /// <summary>
    /// As <see cref="FollowChanges(Guid, TimeSpan, Func{Task})"/>, but re-renders only when what
    /// <paramref name="shown"/> describes (the rows on screen, say) differs after the reload. A
    /// re-render gives every row's handlers new ids, and a click sent with the old ones in that
    /// instant is dropped: a page that reloads each second under other traffic would lose clicks for nothing.
    /// </summary>
    protected void FollowChanges(Guid workspaceId, TimeSpan delay, Func<Task> reload, Func<string> shown)
    {
        _subscription?.Dispose();
        _subscription = new DebouncedSubscription(LiveChanges, workspaceId, delay, () => InvokeAsync(async () =>
        {
            var before = shown();
            await reload();
            if (shown() != before)
            {
                StateHasChanged();
            }
        }));
    }

    public void Dispose()
    {
        _subscription?.Dispose();
        OnDispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>What else the page lets go of (timers, typing pauses).</summary>
    protected virtual void OnDispose()
    {
    }
}
