using DeliveryConsole.Features.Access;
using DeliveryConsole.Infrastructure;
using MudBlazor;

namespace DeliveryConsole.Components.Layout;

public partial class MainLayout
{
    private MudThemeProvider? _themeProvider;
    private bool _drawerOpen = true;
    private bool _darkMode;
    private bool _themeResolved;
    private Caller? _caller;
    // Set once the circuit is live: e2e tests wait for it before clicking.
    private bool _interactive;

    protected override async Task OnInitializedAsync()
    {
        try
        {
            _caller = await CurrentCaller.GetAsync();
            if (await Users.GetDarkModeAsync(_caller) is { } stored)
            {
                _darkMode = stored;
                _themeResolved = true;
            }
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

    private async Task ToggleDarkModeAsync()
    {
        _darkMode = !_darkMode;
        if (_caller is not null)
        {
            await Users.SetDarkModeAsync(_caller, _darkMode);
        }
    }
}
