using DeliveryConsole.Components.Shared;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries.Live;
using DeliveryConsole.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;

namespace DeliveryConsole.Features.Callbacks.Pages;

public sealed partial class CallbacksPage
{
    private const string All = "all";

    [Inject] private CallbackService Callbacks { get; set; } = default!;
    [Inject] private CurrentCaller CurrentCaller { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;

    private MudTable<Callback>? _table;
    private IReadOnlyList<Callback> _items = [];
    private HashSet<Callback> _selected = [];
    private readonly HashSet<string> _busy = [];

    /// <summary>Rows per page: the page is server-paged, as the inspector is.</summary>
    private const int PageSize = 50;
    private int _offset;
    private int _total;
    /// <summary>The offset of the rows shown (the asked one while they load).</summary>
    private int _shownOffset;

    private string PageText => _total == 0 ? "" : $"{_shownOffset + 1:N0}–{Math.Min(_shownOffset + PageSize, _total):N0} of {_total:N0}";

    private async Task MoveAsync(int pages)
    {
        _offset = Math.Clamp(_offset + (pages * PageSize), 0, Math.Max(0, (_total - 1) / PageSize * PageSize));
        await LoadAsync();
    }

    /// <summary>
    /// Callbacks acted on here (dispatched, cancelled, moved) that no longer match the view: they stay
    /// listed, with their new status and the placed call's link, until the operator changes the filters.
    /// </summary>
    private readonly HashSet<string> _kept = [];
    private string _status = CallbackStatus.Scheduled;
    private string? _number;
    private string? _source;
    private bool _loading = true;
    private bool _canOperate;
    private bool _isAdmin;
    private QuietHours? _quiet;
    private bool _drawerOpen;
    private Callback? _open;
    private DateTime _now;
    private TimeZoneInfo _zone = TimeZoneInfo.Utc;
    private Caller _caller = default!;
    private readonly TypingPause _typing = new(TimeSpan.FromMilliseconds(300));

    private List<Callback> SelectedScheduled => _selected.Where(c => c.Status == CallbackStatus.Scheduled).ToList();

    /// <summary>A number to filter by (<c>callbacks?number=…</c>), every status: from "Find anything".</summary>
    [SupplyParameterFromQuery(Name = "number")]
    public string? InitialNumber { get; set; }

    /// <summary>A callback to open (<c>callbacks?id=cb_…</c>), whatever its status: from "Find anything".</summary>
    [SupplyParameterFromQuery(Name = "id")]
    public string? InitialId { get; set; }

    protected override async Task OnInitializedAsync()
    {
        _caller = await CurrentCaller.GetAsync();
        _canOperate = _caller.Can(Role.Operator);
        _isAdmin = _caller.Can(Role.Admin);
        if (!string.IsNullOrWhiteSpace(InitialNumber) || !string.IsNullOrWhiteSpace(InitialId))
        {
            _status = All;
            _number = string.IsNullOrWhiteSpace(InitialNumber) ? null : InitialNumber.Trim();
        }

        if (!string.IsNullOrWhiteSpace(InitialId))
        {
            try
            {
                var callback = await Callbacks.GetAsync(_caller, InitialId.Trim());
                _number = callback.ToNumber;
                Open(callback);
            }
            catch (NotFoundException)
            {
                Snackbar.Add($"No callback {InitialId.Trim()} in this workspace.", Severity.Warning);
            }
        }

        await LoadAsync();
        // Status changes (the scheduler, other operators) appear without reload.
        FollowChanges(_caller.WorkspaceId, TimeSpan.FromSeconds(1), LoadAsync, Shown);
        // Countdowns tick on their own (CountdownText): the rows are not re-rendered for them.
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender)
        {
            try
            {
                _zone = ZonedTime.Resolve(await JS.InvokeAsync<string>("deliveryConsole.timeZone"));
                StateHasChanged();
            }
            catch (JSException)
            {
                // Stay on UTC.
            }
        }
    }

    /// <summary>What the page shows, for live reloads: they re-render only when it changed.</summary>
    private string Shown() => $"{_total}|{_shownOffset}|{_quiet?.Text}|" + string.Join(',', _items.Select(c => $"{c.Id}:{c.Status}:{c.UpdatedAt.Ticks}"));

    /// <summary>Bumped by each load: a load that finishes after a later one started (a live reload against a page change) is dropped.</summary>
    private int _loadGeneration;

    private async Task LoadAsync()
    {
        _loading = true;
        _now = Clock.GetUtcNow().UtcDateTime;
        var generation = ++_loadGeneration;
        var offset = _offset;
        _quiet = await Callbacks.GetQuietHoursAsync(_caller);
        var (page, total) = await Callbacks.PageAsync(_caller, _status == All ? null : _status, string.IsNullOrWhiteSpace(_source) ? null : _source.Trim(), _number, offset, PageSize);
        var items = page.ToList();
        foreach (var id in _kept.Where(id => items.All(c => c.Id != id)).ToList())
        {
            try
            {
                items.Add(await Callbacks.GetAsync(_caller, id));
            }
            catch (NotFoundException)
            {
                _kept.Remove(id);
            }
        }

        if (generation != _loadGeneration)
        {
            return;
        }

        // Shown together: the rows, their offset and the total. Scheduled first, soonest first.
        _total = total;
        _shownOffset = offset;
        _items = items.OrderBy(c => c.Status == CallbackStatus.Scheduled ? 0 : 1).ThenBy(c => c.ScheduledAt).ThenBy(c => c.Id, StringComparer.Ordinal).ToList();
        var ids = _items.ToDictionary(c => c.Id);
        _selected = _selected.Where(c => ids.ContainsKey(c.Id)).Select(c => ids[c.Id]).ToHashSet();
        if (_open is { } open && ids.TryGetValue(open.Id, out var fresh))
        {
            _open = fresh;
        }

        _loading = false;
    }

    /// <summary>How many other scheduled callbacks of the list call the same number (a likely duplicate promise).</summary>
    private int SameNumber(Callback callback) =>
        callback.Status != CallbackStatus.Scheduled ? 0 : _items.Count(c => c.Id != callback.Id && c.Status == CallbackStatus.Scheduled && c.ToNumber == callback.ToNumber);

    /// <summary>A kept row the current filters would not show (said on the row).</summary>
    private bool Kept(Callback callback) => _kept.Contains(callback.Id) && _status != All && callback.Status != _status;

    private async Task OnStatusChanged(string? status)
    {
        _kept.Clear();
        _offset = 0;
        _status = status ?? All;
        await LoadAsync();
    }

    private Task OnNumberChanged(string? number)
    {
        _kept.Clear();
        _offset = 0;
        _number = number;
        return _typing.RunAsync(LoadAsync);
    }

    private Task OnSourceChanged(string? source)
    {
        _kept.Clear();
        _offset = 0;
        _source = source;
        return _typing.RunAsync(LoadAsync);
    }

    private void Open(Callback callback)
    {
        _open = callback;
        _drawerOpen = true;
    }

    private static bool CanDispatch(Callback callback) => callback.Status is CallbackStatus.Scheduled or CallbackStatus.Failed;

    private string DispatchHint(Callback callback) =>
        !_canOperate ? "Operators and admins can dispatch" : !CanDispatch(callback) ? $"A {callback.Status} callback cannot be dispatched" : "Place this call now";

    private string CancelHint(Callback callback) =>
        !_canOperate ? "Operators and admins can cancel" : callback.Status != CallbackStatus.Scheduled ? $"A {callback.Status} callback cannot be cancelled" : "Cancel this callback";

    internal static Color StatusColor(string status) => status switch
    {
        CallbackStatus.Scheduled => Color.Info,
        CallbackStatus.Dispatching => Color.Warning,
        CallbackStatus.Dispatched => Color.Success,
        CallbackStatus.Failed => Color.Error,
        _ => Color.Default,
    };

    private static string Short(string id) => id.Length > 14 ? id[..14] + "…" : id;

    private async Task DispatchAsync(Callback callback)
    {
        if (await ConfirmDialog.AskAsync(Dialogs, "Dispatch now?", $"A call to {callback.ToNumber} is placed now instead of at its scheduled time.", "Dispatch now", color: Color.Primary) is null)
        {
            return;
        }

        _busy.Add(callback.Id);
        await Snackbar.TryAsync(async () =>
        {
            var result = await Callbacks.DispatchAsync(_caller, callback.Id);
            _kept.Add(callback.Id);
            Snackbar.Add(result.Status == CallbackStatus.Dispatched ? $"Call placed to {result.ToNumber}." : $"The call could not be placed: {result.FailureCause}",
                result.Status == CallbackStatus.Dispatched ? Severity.Success : Severity.Error);
        });
        _busy.Remove(callback.Id);

        await LoadAsync();
    }

    private async Task CancelAsync(Callback callback)
    {
        var reason = await ConfirmDialog.AskAsync(Dialogs, "Cancel callback?", $"The call to {callback.ToNumber} will not be placed.", "Cancel callback", askReason: true);
        if (reason is null)
        {
            return;
        }

        _busy.Add(callback.Id);
        await Snackbar.TryAsync(async () =>
        {
            await Callbacks.CancelAsync(_caller, callback.Id, string.IsNullOrWhiteSpace(reason) ? null : reason);
            _kept.Add(callback.Id);
            Snackbar.Add("Callback cancelled.", Severity.Success);
        });
        _busy.Remove(callback.Id);

        await LoadAsync();
    }

    /// <summary>When quiet hours hold the callback at its time: the end of the window (UTC), else null.</summary>
    private DateTime? QuietUntil(Callback callback, TimeZoneInfo calleeZone) =>
        _quiet?.AllowedFrom(callback.ScheduledAt, calleeZone) is { } allowed && allowed > callback.ScheduledAt ? allowed : null;

    private async Task EditQuietHoursAsync()
    {
        var dialog = await Dialogs.ShowAsync<QuietHoursDialog>("Quiet hours", new DialogParameters<QuietHoursDialog> { { d => d.Current, _quiet } },
            new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true });
        if (await dialog.Result is not { Canceled: false, Data: QuietHours chosen })
        {
            return;
        }

        var on = chosen.StartMinute >= 0;
        await Snackbar.TryAsync(() => Callbacks.SetQuietHoursAsync(_caller, on ? chosen.StartMinute : null, on ? chosen.EndMinute : null),
            on ? $"Quiet hours {chosen.Text} in the callee's time." : "No quiet hours: callbacks dispatch at their time.");
        await LoadAsync();
    }

    private async Task SetCalleeZoneAsync(Callback callback)
    {
        var dialog = await Dialogs.ShowAsync<CalleeZoneDialog>("Callee's time zone", new DialogParameters<CalleeZoneDialog> { { d => d.Callback, callback } },
            new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true });
        if (await dialog.Result is not { Canceled: false, Data: string zone })
        {
            return;
        }

        await Snackbar.TryAsync(() => Callbacks.SetTimeZoneAsync(_caller, callback.Id, zone.Length == 0 ? null : zone),
            zone.Length == 0 ? "The callee's time zone comes from the number again." : $"Callee's time zone: {zone}.");
        await LoadAsync();
    }

    private async Task RescheduleAsync(Callback callback)
    {
        if (await RescheduleDialog.AskAsync(Dialogs, callback, Clock.GetUtcNow().UtcDateTime) is not { } chosen)
        {
            return;
        }

        _busy.Add(callback.Id);
        await Snackbar.TryAsync(() => Callbacks.RescheduleAsync(_caller, callback.Id, chosen.At, chosen.Reason),
            $"Callback to {callback.ToNumber} moved to {chosen.At:yyyy-MM-dd HH:mm} UTC.");
        _busy.Remove(callback.Id);
        await LoadAsync();
    }

    private async Task CancelSelectedAsync()
    {
        var targets = SelectedScheduled;
        var reason = await ConfirmDialog.AskAsync(Dialogs, $"Cancel {targets.Count} callbacks?", "None of these calls will be placed.", "Cancel callbacks", askReason: true);
        if (reason is null)
        {
            return;
        }

        var cancelled = 0;
        var refused = new List<string>();
        foreach (var callback in targets)
        {
            try
            {
                await Callbacks.CancelAsync(_caller, callback.Id, string.IsNullOrWhiteSpace(reason) ? null : reason);
                _kept.Add(callback.Id);
                cancelled++;
            }
            catch (AppException exception)
            {
                refused.Add($"{callback.ToNumber}: {exception.Message}");
            }
        }

        Snackbar.Add(refused.Count == 0 ? $"{cancelled} callbacks cancelled." : $"{cancelled} cancelled; {refused.Count} could not be: {string.Join("; ", refused)}",
            refused.Count == 0 ? Severity.Success : Severity.Warning);
        _selected.Clear();
        await LoadAsync();
    }

    protected override void OnDispose()
    {
        _typing.Dispose();
    }
}
