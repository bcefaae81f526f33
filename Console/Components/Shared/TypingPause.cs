namespace DeliveryConsole.Components.Shared;

/// <summary>
/// Runs an action once typing pauses. Search fields use it with <c>Immediate="true"</c> instead of
/// MudBlazor's <c>DebounceInterval</c>: a debounced field commits its value again when it loses
/// focus, which re-rendered the rows under the click that took the focus away, and the click was lost.
/// </summary>
public sealed class TypingPause(TimeSpan delay) : IDisposable
{
    private CancellationTokenSource? _typing;

    public async Task RunAsync(Func<Task> action)
    {
        if (_typing is { } previous)
        {
            await previous.CancelAsync();
            previous.Dispose();
        }

        var typing = _typing = new CancellationTokenSource();
        try
        {
            await Task.Delay(delay, typing.Token);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        await action();
    }

    public void Dispose() => _typing?.Cancel();
}
