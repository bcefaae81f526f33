using DeliveryConsole.Components.Shared;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Features.Deliveries.Pages.Inspector;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;

namespace DeliveryConsole.Features.Deliveries.Pages;

/// <summary>
/// The inspector: filters in the query string (a link or the back button restores them), a
/// server-paged grid of one line per delivery, a drawer with every attempt, resend and replay, live
/// updates, and the keyboard (j / k, Enter, Esc, /). Times are absolute, in the operator's zone or
/// UTC as they choose; hidden columns and that choice are kept with their account.
/// </summary>
public sealed partial class DeliveriesPage
{
    private const int CountCap = 10_000;

    /// <summary>The columns a user may hide, by key, as the columns menu lists them.</summary>
    private static readonly (string Key, string Title)[] Columns =
    [
        ("status", "Status"), ("type", "Event type"), ("event", "Event id"), ("endpoint", "Endpoint"), ("host", "Target host"),
        ("answer", "Answer"), ("attempts", "Attempts"), ("last", "Last attempt"), ("created", "Created"),
    ];

    [Inject] private DeliveryQueries Deliveries { get; set; } = default!;
    [Inject] private EndpointService Endpoints { get; set; } = default!;
    [Inject] private ResendService Resend { get; set; } = default!;
    [Inject] private DeliveryConsole.Infrastructure.Delivery.ConsoleAddress Address { get; set; } = default!;
    [Inject] private ReplayService Replay { get; set; } = default!;
    [Inject] private UserService Users { get; set; } = default!;
    [Inject] private SavedViewService Views { get; set; } = default!;
    [Inject] private CurrentCaller CurrentCaller { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    private MudDataGrid<DeliveryRow>? _grid;
    private InspectorFilterBar? _filters;
    private FailureClustersPanel? _clustersPanel;
    private HashSet<DeliveryRow> _selected = [];
    private IReadOnlyList<DeliveryRow> _items = [];
    private IReadOnlyList<string> _eventTypes = [];
    private IReadOnlyList<EndpointChoice> _endpoints = [];
    private Dictionary<Guid, EndpointChoice> _endpointsById = [];
    private DeliveryDetail? _detail;
    private ReplayRun? _replay;
    private Guid? _replayDismissed;
    private DisplayPreferences _display = DisplayPreferences.Default;
    private TimeZoneInfo _browserZone = TimeZoneInfo.Utc;
    private DotNetObjectReference<DeliveriesPage>? _self;
    private bool _drawerOpen;
    private bool _canAct;
    private bool _busy;
    private bool _live = true;
    private int _cursor = -1;
    private long? _total;
    private bool _totalIsAtLeast;
    private DateTime _now;
    private Caller? _caller;
    private InspectorQuery _query = new();
    private string? _queryError;

    [SupplyParameterFromQuery(Name = "status")] public string? Status { get; set; }
    [SupplyParameterFromQuery(Name = "type")] public string? Type { get; set; }
    [SupplyParameterFromQuery(Name = "scope")] public string? Scope { get; set; }
    [SupplyParameterFromQuery(Name = "endpoint")] public string? Endpoint { get; set; }
    [SupplyParameterFromQuery(Name = "channel")] public string? Channel { get; set; }
    [SupplyParameterFromQuery(Name = "range")] public string? Range { get; set; }
    [SupplyParameterFromQuery(Name = "from")] public string? From { get; set; }
    [SupplyParameterFromQuery(Name = "to")] public string? To { get; set; }
    [SupplyParameterFromQuery(Name = "q")] public string? Q { get; set; }
    [SupplyParameterFromQuery(Name = "answer")] public string? Answer { get; set; }
    [SupplyParameterFromQuery(Name = "payload")] public string? Payload { get; set; }

    private bool HasFilters => _query.ToQueryString().Length > 0;

    /// <summary>The rows the page shows (values it ignores are left out, so the export does not refuse them).</summary>
    private string ExportHref => _query.WithoutIgnoredValues().ToQueryString() is { Length: > 0 } query ? $"deliveries/export.csv?{query}" : "deliveries/export.csv";

    private TimeZoneInfo Zone => _display.Utc ? TimeZoneInfo.Utc : _browserZone;

    private string ZoneText => AbsoluteTime.ZoneLabel(Zone, _now == default ? DateTime.UtcNow : _now);

    private string TotalText => _total switch
    {
        null => "",
        _ when _totalIsAtLeast => $"more than {CountCap:N0} deliveries",
        1 => "1 delivery",
        { } total => $"{total:N0} deliveries",
    };

    private string PagerInfo => _totalIsAtLeast ? $"{{first_item}}-{{last_item}} of {CountCap:N0}+" : "{first_item}-{last_item} of {all_items}";

    protected override async Task OnInitializedAsync()
    {
        _caller = await CurrentCaller.GetAsync();
        _canAct = _caller.Can(Role.Operator);
        _now = Clock.GetUtcNow().UtcDateTime;
        _display = await Users.GetDisplayAsync(_caller);
        _eventTypes = await Deliveries.EventTypesAsync(_caller);
        _endpoints = (await Endpoints.NamedAsync(_caller)).Select(EndpointChoice.Of).OrderBy(e => e.Name, StringComparer.OrdinalIgnoreCase).ToList();
        _endpointsById = _endpoints.ToDictionary(e => Guid.Parse(e.Key[3..]));
        FollowChanges(_caller.WorkspaceId, TimeSpan.FromSeconds(1), OnLiveChangeAsync);
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (!firstRender)
        {
            return;
        }

        try
        {
            _browserZone = ZonedTime.Resolve(await JS.InvokeAsync<string>("deliveryConsole.timeZone"));
            _self = DotNetObjectReference.Create(this);
            await JS.InvokeVoidAsync("deliveryConsole.onInspectorKeys", _self);
            StateHasChanged();
        }
        catch (JSException)
        {
            // Times stay in UTC and the keyboard is off; everything else works.
        }
    }

    protected override async Task OnParametersSetAsync()
    {
        var previous = _query;
        _query = new InspectorQuery { Status = Status, Type = Type, Scope = Scope, Endpoint = Endpoint, Channel = Channel, Range = Range, From = From, To = To, Q = Q, Answer = Answer, Payload = Payload };
        _replay = LatestReplay();
        if (_grid is not null && previous != _query)
        {
            _selected.Clear();
            _cursor = -1;
            await _grid.ReloadServerData();
        }
    }

    private async Task<GridData<DeliveryRow>> LoadServerData(GridState<DeliveryRow> state, CancellationToken cancellationToken)
    {
        _caller ??= await CurrentCaller.GetAsync();
        _now = Clock.GetUtcNow().UtcDateTime;
        var sort = state.SortDefinitions.FirstOrDefault() is { } definition
            ? new DeliverySort(Enum.TryParse<DeliverySortField>(definition.SortBy, out var field) ? field : DeliverySortField.CreatedAt, definition.Descending)
            : DeliverySort.Newest;
        DeliveryConsole.Features.Deliveries.DeliveryPage page;
        try
        {
            page = await Deliveries.PageAsync(_caller, _query.ToFilter(_now), sort, state.Page * state.PageSize, state.PageSize, cancellationToken, countUpTo: CountCap);
            _queryError = null;
        }
        catch (AppException exception)
        {
            // A filter the service refuses (a payload search without a window, or too wide): said above the grid, nothing listed.
            _queryError = exception.Message;
            page = new DeliveryConsole.Features.Deliveries.DeliveryPage([], 0);
            _ = InvokeAsync(StateHasChanged);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            // A newer load (another filter) superseded this one: its figures must not overwrite the newer ones.
            return new GridData<DeliveryRow> { Items = page.Items, TotalItems = (int)Math.Min(int.MaxValue, page.Total) };
        }

        _items = page.Items;
        _cursor = Math.Min(_cursor, _items.Count - 1);
        if (_total != page.Total || _totalIsAtLeast != page.TotalIsAtLeast)
        {
            _total = page.Total;
            _totalIsAtLeast = page.TotalIsAtLeast;
            _ = InvokeAsync(StateHasChanged);
        }

        return new GridData<DeliveryRow> { Items = page.Items, TotalItems = (int)Math.Min(int.MaxValue, page.Total) };
    }

    private string RowClass(DeliveryRow row, int index) => index == _cursor ? "delivery-row keyboard-cursor" : "delivery-row";

    private Task NavigateAsync(IReadOnlyDictionary<string, object?> parameters)
    {
        Navigation.NavigateTo(Navigation.GetUriWithQueryParameters(parameters));
        return Task.CompletedTask;
    }

    private void ClearFilters() => Navigation.NavigateTo("deliveries");

    private string EndpointName(DeliveryRow row) =>
        _endpointsById.TryGetValue(row.EndpointId, out var endpoint) ? endpoint.Name : DeliveryDetailView.ScopeText(row.Scope);

    private string EndpointTitle(DeliveryRow row) =>
        _endpointsById.TryGetValue(row.EndpointId, out var endpoint) ? $"{endpoint.Name}: {endpoint.Url}" : row.TargetUrl;

    /// <summary>What went wrong, in a word or two (the full error is on hover and in the drawer); the clusters' classes.</summary>
    internal static string ErrorClass(string error) => FailureClusterService.ClassOf(null, error);

    private bool Hidden(string key) => _display.HiddenColumns.Contains(key);

    private async Task ToggleColumnAsync(string key)
    {
        var hidden = _display.HiddenColumns.ToHashSet();
        if (!hidden.Remove(key))
        {
            hidden.Add(key);
        }

        _display = _display with { HiddenColumns = hidden };
        await Users.SetDisplayAsync(_caller!, _display);
    }

    private async Task SaveViewAsync()
    {
        var dialog = await Dialogs.ShowAsync<SaveViewDialog>("Save view", new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true });
        if (await dialog.Result is not { Canceled: false, Data: string name })
        {
            return;
        }

        var view = await Snackbar.TryAsync(() => Views.SaveAsync(_caller!, name, _query));
        if (view is not null)
        {
            var link = Address.PublicUrl(Navigation.ToAbsoluteUri($"views/{view.Id}").PathAndQuery);
            var copied = await JS.InvokeAsync<bool>("deliveryConsole.copyText", link);
            Snackbar.Add($"View \"{view.Name}\" saved{(copied ? "; its link is copied" : "")}: {link}", Severity.Success);
        }
    }

    private async Task ToggleUtcAsync()
    {
        _display = _display with { Utc = !_display.Utc };
        await Users.SetDisplayAsync(_caller!, _display);
    }

    [JSInvokable]
    public Task OnInspectorKeyAsync(string key) => InvokeAsync(async () =>
    {
        switch (key)
        {
            case "j" or "k" when _items.Count > 0:
                _cursor = key == "j" ? Math.Min(_items.Count - 1, _cursor + 1) : Math.Max(0, _cursor - 1);
                StateHasChanged();
                await JS.InvokeVoidAsync("deliveryConsole.scrollToRow", _cursor);
                break;
            case "Enter" when _cursor >= 0 && _cursor < _items.Count:
                await OpenAsync(_items[_cursor].Id);
                // Called from script, not a UI event: nothing re-renders on its own.
                StateHasChanged();
                break;
            case "Escape" when _drawerOpen:
                _drawerOpen = false;
                StateHasChanged();
                break;
            case "/":
                if (_filters is not null)
                {
                    await _filters.FocusSearchAsync();
                }

                break;
        }
    });

    private async Task OnRowClick(DataGridRowClickEventArgs<DeliveryRow> args)
    {
        _cursor = args.RowIndex;
        await OpenAsync(args.Item.Id);
    }

    private async Task OpenAsync(Guid id)
    {
        _detail = null;
        _drawerOpen = true;
        StateHasChanged();
        await LoadDetailAsync(id);
    }

    private async Task LoadDetailAsync(Guid id)
    {
        try
        {
            _detail = await Deliveries.GetAsync(await CurrentCaller.GetAsync(), id);
        }
        catch (NotFoundException)
        {
            _drawerOpen = false;
            Snackbar.Add("That delivery is no longer there", Severity.Warning);
        }
    }

    private async Task ReloadAsync()
    {
        _replay = LatestReplay();
        if (_clustersPanel is not null)
        {
            await _clustersPanel.ReloadAsync();
        }

        if (_grid is not null)
        {
            await _grid.ReloadServerData();
        }

        if (_drawerOpen && _detail is not null)
        {
            await LoadDetailAsync(_detail.Delivery.Id);
        }
    }

    private async Task OnLiveChangeAsync()
    {
        if (!_live)
        {
            _replay = LatestReplay();
            return;
        }

        await ReloadAsync();
    }

    private async Task OnLiveChanged(bool live)
    {
        _live = live;
        if (live)
        {
            await ReloadAsync();
        }
    }

    private ReplayRun? LatestReplay() =>
        _caller is not null && Replay.Latest(_caller.WorkspaceId) is { } run && run.Id != _replayDismissed ? run : null;

    private async Task ResendOpenAsync()
    {
        if (_detail is null || await ConfirmDialog.AskAsync(Dialogs, "Resend this delivery?",
                $"It goes back to pending and is sent to {_detail.Delivery.TargetHost} now, with fresh signed links, as a new attempt.", "Resend", color: Color.Primary) is null)
        {
            return;
        }

        var id = _detail.Delivery.Id;
        await RunAsync(caller => Resend.ResendAsync(caller, null, id), "Resend queued");
    }

    private async Task ResendSelectedAsync()
    {
        var ids = _selected.Select(d => d.Id).ToList();
        if (await ConfirmDialog.AskAsync(Dialogs, $"Resend {ids.Count} deliveries?",
                "Each goes back to pending and is sent again now, with fresh signed links.", "Resend", color: Color.Primary) is null)
        {
            return;
        }

        await RunAsync(async caller =>
        {
            var count = await Resend.ResendManyAsync(caller, ids);
            _selected.Clear();
            Snackbar.Add($"{count} deliveries queued for resend", Severity.Success);
        });
    }

    private async Task ReplayFailedAsync()
    {
        await RunAsync(async caller =>
        {
            var filter = _query.ToFilter(Clock.GetUtcNow().UtcDateTime);
            var count = await Replay.CountAsync(caller, filter);
            if (count == 0)
            {
                Snackbar.Add("No failed deliveries match these filters", Severity.Info);
                return;
            }

            if (await ConfirmDialog.AskAsync(Dialogs, $"Replay {count:N0} failed deliveries?",
                    $"Every failed delivery matching the current filters ({count:N0}) goes back to pending and is sent again, in batches, by a background job. Progress shows on this page.",
                    "Replay") is null)
            {
                return;
            }

            _replay = await Replay.StartAsync(caller, filter);
            _replayDismissed = null;
        });
    }

    /// <summary>An action of the signed-in operator: refusals shown as messages, the grid reloaded after.</summary>
    private async Task RunAsync(Func<Caller, Task> action, string? success = null)
    {
        _busy = true;
        if (await Snackbar.TryAsync(async () => await action(await CurrentCaller.GetAsync()), success))
        {
            await ReloadAsync();
        }

        _busy = false;
    }

    protected override void OnDispose()
    {
        _self?.Dispose();
        _ = JS.InvokeVoidAsync("deliveryConsole.offInspectorKeys").AsTask().ContinueWith(_ => { }, TaskScheduler.Default);
    }
}
