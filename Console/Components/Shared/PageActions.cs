using DeliveryConsole.Infrastructure;
using Microsoft.JSInterop;
using MudBlazor;

namespace DeliveryConsole.Components.Shared;

/// <summary>
/// The one way a page runs an action a person asked for: a refusal from a service (an
/// <see cref="AppException"/>: forbidden, not found, conflict, invalid) becomes an error message in
/// a snackbar, in the service's own words, and the page goes on. Anything else is a bug and is left
/// to the circuit's error handling.
/// </summary>
public static class PageActions
{
    /// <summary>Runs <paramref name="action"/>; returns false (after showing why) when a service refused it.</summary>
    public static async Task<bool> TryAsync(this ISnackbar snackbar, Func<Task> action, string? success = null)
    {
        try
        {
            await action();
        }
        catch (AppException exception)
        {
            snackbar.Add(exception.Message, Severity.Error);
            return false;
        }

        if (success is not null)
        {
            snackbar.Add(success, Severity.Success);
        }

        return true;
    }

    /// <summary>Runs <paramref name="action"/> for its result; null (after showing why) when a service refused it.</summary>
    public static async Task<T?> TryAsync<T>(this ISnackbar snackbar, Func<Task<T>> action) where T : class
    {
        try
        {
            return await action();
        }
        catch (AppException exception)
        {
            snackbar.Add(exception.Message, Severity.Error);
            return null;
        }
    }

    /// <summary>Copies <paramref name="text"/> to the clipboard (console.js) and says in a snackbar whether it worked.</summary>
    public static async Task<bool> CopyAsync(this ISnackbar snackbar, IJSRuntime js, string text, string copied, string failed = "Could not copy; select the text and copy it.")
    {
        var ok = await js.InvokeAsync<bool>("deliveryConsole.copyText", text);
        snackbar.Add(ok ? copied : failed, ok ? Severity.Success : Severity.Warning);
        return ok;
    }
}
