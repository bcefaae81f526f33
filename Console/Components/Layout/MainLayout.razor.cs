using DeliveryConsole.Components.Shared;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Search;
using DeliveryConsole.Features.Search.Pages;
using DeliveryConsole.Features.Workspaces;
using DeliveryConsole.Features.Workspaces.Pages;
using DeliveryConsole.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Routing;
using Microsoft.JSInterop;
using MudBlazor;

namespace DeliveryConsole.Components.Layout;

public partial class MainLayout
{
    [Inject] private NavigationManager Navigation { get; set; } = default!;

    /// <summary>The page's own address with the fragment (a bare "#main-content" would resolve against the workspace's base address).</summary>
    /// <summary>This page's path and query with the fragment (relative: no Host of the request in a link).</summary>
    private string SkipHref => new Uri(Navigation.Uri).PathAndQuery + "#main-content";
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IJSRuntime JS { get; set; } = default!;
    [Inject] private WorkspaceAccess Access { get; set; } = default!;
    [Inject] private StaffViewAudit StaffViews { get; set; } = default!;

    private MudThemeProvider? _themeProvider;
    private bool _drawerOpen = true;
    private bool _darkMode;
    private bool _themeResolved;
    private Caller? _caller;
    private CurrentWorkspace? _workspace;
    private string? _userId;
    private bool _dialogOpen;
    private bool _hasWorkspace;
    private string? _displayName;
    private DotNetObjectReference<MainLayout>? _self;
    // Set once the circuit is live: e2e tests wait for it before clicking.
    private bool _interactive;

    protected override async Task OnInitializedAsync()
    {
        _userId = await CurrentCaller.GetUserIdAsync();
        _displayName = await CurrentCaller.GetDisplayNameAsync();
        _workspace = await CurrentCaller.GetWorkspaceAsync();
        _hasWorkspace = _workspace is not null || (_userId is not null && await Access.GrantAsync(_userId, (string?)null) is not null);
        try
        {
            _caller = await CurrentCaller.GetAsync();
            if (await Users.GetDarkModeAsync(_caller) is { } stored)
            {
                _darkMode = stored;
                _themeResolved = true;
            }

            if (_userId is not null && _workspace is not null)
            {
                // Recent in the switcher; the current workspace changes only by switching.
                await Access.VisitAsync(_userId, _workspace.Id);
            }


            await RecordStaffViewAsync(Navigation.Uri);
            Navigation.LocationChanged += OnLocationChanged;
        }
        catch (UnauthorizedException)
        {
            _caller = null;
        }
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender)
        {
            if (_caller is not null)
            {
                _self = DotNetObjectReference.Create(this);
                try
                {
                    await JS.InvokeVoidAsync("deliveryConsole.onFindShortcut", _self);
                }
                catch (JSException)
                {
                    // The shortcut is a convenience; the app bar button still opens the search.
                }
            }

            // Only now is every handler in place (the shortcut included).
            _interactive = true;
            StateHasChanged();
        }

        // No stored choice yet: follow the operating system until the user picks one.
        if (firstRender && !_themeResolved && _themeProvider is not null)
        {
            _themeResolved = true;
            var systemDark = await _themeProvider.GetSystemDarkModeAsync();
            if (systemDark != _darkMode)
            {
                _darkMode = systemDark;
                StateHasChanged();
            }
        }
    }

    private async Task ChangePasswordAsync()
    {
        var dialog = await Dialogs.ShowAsync<Features.Access.Pages.ChangePasswordDialog>("Change password", new DialogOptions { MaxWidth = MaxWidth.ExtraSmall, FullWidth = true });
        if (await dialog.Result is { Canceled: false })
        {
            Snackbar.Add("Password changed. You will be asked to sign in again with it.", Severity.Success);
        }
    }

    private async Task ToggleDarkModeAsync()
    {
        _darkMode = !_darkMode;
        if (_caller is not null)
        {
            await Users.SetDarkModeAsync(_caller, _darkMode);
        }
    }

    private async void OnLocationChanged(object? sender, LocationChangedEventArgs args)
    {
        try
        {
            await RecordStaffViewAsync(args.Location);
        }
        catch (Exception exception) when (exception is not OutOfMemoryException)
        {
            // Recording is best effort here; StaffViewAudit logs its own failures.
        }
    }

    /// <summary>Platform staff looking at a workspace they are not a member of: written to that workspace's audit log.</summary>
    private async Task RecordStaffViewAsync(string uri)
    {
        if (_caller is not null && _workspace is { ViaStaff: true })
        {
            await StaffViews.RecordAsync(_caller, new Uri(uri).PathAndQuery);
        }
    }

    [JSInvokable]
    public Task OpenFindAsync() => InvokeAsync(async () =>
    {
        if (_userId is null || _dialogOpen)
        {
            return;
        }

        _dialogOpen = true;
        try
        {
            var dialog = await Dialogs.ShowAsync<FindDialog>("Find anything",
                new DialogParameters<FindDialog> { { d => d.UserId, _userId } },
                new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true, Position = DialogPosition.TopCenter });
            if (await dialog.Result is { Canceled: false, Data: FindMatch match })
            {
                Open(match.Workspace, match.Path);
            }
        }
        finally
        {
            _dialogOpen = false;
        }
    });

    private async Task OpenSwitcherAsync()
    {
        if (_userId is null || _dialogOpen)
        {
            return;
        }

        _dialogOpen = true;
        try
        {
            var dialog = await Dialogs.ShowAsync<WorkspaceSwitcherDialog>("Switch workspace",
                new DialogParameters<WorkspaceSwitcherDialog> { { d => d.UserId, _userId }, { d => d.CurrentId, _workspace?.Id ?? Guid.Empty } },
                new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true, Position = DialogPosition.TopCenter });
            if (await dialog.Result is { Canceled: false, Data: WorkspaceGrant grant })
            {
                await Access.SwitchAsync(_userId, grant.Workspace.Id);
                Open(grant.Workspace, SectionOf(Navigation.ToBaseRelativePath(Navigation.Uri)));
            }
        }
        finally
        {
            _dialogOpen = false;
        }
    }

    /// <summary>Opens a page of a workspace: in this circuit when it is the current one, else by loading its URL (a circuit stays in one workspace).</summary>
    private void Open(WorkspaceSummary workspace, string relativePath)
    {
        if (workspace.Id == _workspace?.Id)
        {
            Navigation.NavigateTo(relativePath);
        }
        else
        {
            Navigation.NavigateTo(WorkspaceRouting.PathIn(workspace.Slug, relativePath), forceLoad: true);
        }
    }

    /// <summary>The same section in another workspace: a list page, never one row's page (which belongs to this workspace).</summary>
    internal static string SectionOf(string relativePath)
    {
        var path = relativePath.Split('?', '#')[0].Trim('/');
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return parts switch
        {
            [] => "",
            ["settings", var page, ..] => $"settings/{page}",
            [var section, ..] => section,
        };
    }

    public void Dispose()
    {
        Navigation.LocationChanged -= OnLocationChanged;
        _self?.Dispose();
    }
}
