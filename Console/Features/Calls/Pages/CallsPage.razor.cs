using DeliveryConsole.Components.Shared;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries.Live;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace DeliveryConsole.Features.Calls.Pages;

public sealed partial class CallsPage
{
    [Inject] private CallService Calls { get; set; } = default!;
    [Inject] private CurrentCaller CurrentCaller { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;

    private MudTable<Call>? _table;
    private string? _status;
    private string _period = "all";
    private string? _search;
    private DateRange? _range;
    private int _total;
    private DateTime _now;
    private Caller? _caller;
    private readonly TypingPause _typing = new(TimeSpan.FromMilliseconds(300));

    /// <summary>A search to start with (<c>calls?q=+15550001111</c>): links from a delivery and from "Find anything".</summary>
    [SupplyParameterFromQuery(Name = "q")]
    public string? InitialSearch { get; set; }

    protected override async Task OnInitializedAsync()
    {
        _search = string.IsNullOrWhiteSpace(InitialSearch) ? null : InitialSearch.Trim();
        _caller = await CurrentCaller.GetAsync();
        // Calls ending publish events: the list follows them.
        FollowChanges(_caller.WorkspaceId, TimeSpan.FromSeconds(2), ReloadAsync);
    }

    private async Task<TableData<Call>> LoadAsync(TableState state, CancellationToken cancellationToken)
    {
        _caller ??= await CurrentCaller.GetAsync();
        _now = Clock.GetUtcNow().UtcDateTime;
        var custom = _period == "custom";
        var (from, to) = CallQuery.Range(_period, DateOnly.FromDateTime(_now), custom ? Day(_range?.Start) : null, custom ? Day(_range?.End) : null);
        var orderBy = CallQuery.OrderFields.Contains(state.SortLabel) ? state.SortLabel! : "created_at";
        var descending = state.SortDirection != SortDirection.Ascending;
        var (items, total) = await Calls.ListAsync(_caller, new CallQuery
        {
            Status = _status, From = from, To = to, Search = _search, Page = state.Page + 1, PageSize = state.PageSize,
            OrderBy = orderBy, OrderDesc = descending,
        }, cancellationToken);
        _total = total;
        return new TableData<Call> { Items = items, TotalItems = total };
    }

    private static DateOnly? Day(DateTime? value) => value is { } v ? DateOnly.FromDateTime(v) : null;

    private Task ReloadAsync() => _table?.ReloadServerData() ?? Task.CompletedTask;

    private async Task OnStatusChanged(string? status)
    {
        _status = status;
        await ReloadAsync();
    }

    private async Task OnPeriodChanged(string period)
    {
        _period = period;
        await ReloadAsync();
    }

    private async Task OnRangeChanged(DateRange? range)
    {
        _range = range;
        await ReloadAsync();
    }

    private Task OnSearchChanged(string? search)
    {
        _search = string.IsNullOrWhiteSpace(search) ? null : search.Trim();
        return _typing.RunAsync(ReloadAsync);
    }

    protected override void OnDispose() => _typing.Dispose();
}
