using System.Globalization;
using DeliveryConsole.Components.Shared;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Deliveries.Live;
using DeliveryConsole.Features.Stats;
using Microsoft.AspNetCore.Components;

namespace DeliveryConsole.Features.Dashboard;

public sealed partial class DashboardPage
{
    [Inject] private DashboardService Dashboard { get; set; } = default!;
    [Inject] private CurrentCaller CurrentCaller { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    /// <summary>The window in hours (1-168), from the URL so a link keeps it.</summary>
    [SupplyParameterFromQuery(Name = "hours")]
    public int? HoursParameter { get; set; }

    private DashboardData? _data;
    private Caller _caller = default!;
    private int _hours = 24;
    private bool _custom;
    private bool _live = true;
    private bool _refreshing;

    private string WindowKey => _custom ? "custom" : _hours.ToString(CultureInfo.InvariantCulture);

    private string WindowText => _hours switch
    {
        1 => "hour",
        168 => "7 days",
        var h => $"{h} hours",
    };

    /// <summary>The inspector's time filter for this window: its first hour, to now.</summary>
    private string RangeKey => _data is null ? "" : $"range=custom&from={InspectorQuery.FormatInstant(_data.Current.Window.From)}";

    private string InspectorLink(string? status) => $"deliveries?{RangeKey}{(status is null ? "" : $"&status={status}")}";

    protected override async Task OnInitializedAsync()
    {
        _caller = await CurrentCaller.GetAsync();
        FollowChanges(_caller.WorkspaceId, TimeSpan.FromSeconds(2), () => _live ? LoadAsync() : Task.CompletedTask);
    }

    protected override async Task OnParametersSetAsync()
    {
        _hours = Math.Clamp(HoursParameter ?? 24, StatsWindow.MinHours, StatsWindow.MaxHours);
        _custom = _hours is not (1 or 24 or 168);
        await LoadAsync();
    }

    /// <summary>Loads the figures; the old ones stay on screen until the new ones arrive (no flicker).</summary>
    private DeliveryConsole.Features.Deliveries.Pages.FailureClustersPanel? _clusters;

    private async Task LoadAsync()
    {
        _refreshing = true;
        if (_clusters is not null)
        {
            await _clusters.ReloadAsync();
        }

        try
        {
            _data = await Dashboard.GetAsync(_caller, _hours);
        }
        finally
        {
            _refreshing = false;
        }
    }

    private void OnWindowChangedAsync(string key)
    {
        if (key == "custom")
        {
            _custom = true;
            return;
        }

        Navigation.NavigateTo(Navigation.GetUriWithQueryParameter("hours", int.Parse(key, CultureInfo.InvariantCulture)));
    }

    private void OnCustomHoursAsync(int hours)
    {
        if (hours is >= StatsWindow.MinHours and <= StatsWindow.MaxHours)
        {
            Navigation.NavigateTo(Navigation.GetUriWithQueryParameter("hours", hours));
        }
    }

    private async Task OnLiveChanged(bool live)
    {
        _live = live;
        if (live)
        {
            await LoadAsync();
        }
    }

    private static string Ms(double? ms) => ms is { } value ? $"{value:N0} ms" : "—";

    private static string Ms(int? ms) => ms is { } value ? $"{value:N0} ms" : "—";

}
