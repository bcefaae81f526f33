using MudBlazor;

namespace DeliveryConsole.Components.Layout;

/// <summary>The console's palette: calm neutrals, status colours that read in both modes.</summary>
public static class ConsoleTheme
{
    public static readonly MudTheme Theme = new()
    {
        PaletteLight = new PaletteLight
        {
            Primary = "#3a5bd9",
            Secondary = "#5f6b7a",
            AppbarBackground = "#ffffff",
            AppbarText = "#1f2733",
            Background = "#f6f7fb",
            DrawerBackground = "#ffffff",
            Success = "#1e8e4f",
            Error = "#c62f3b",
            Warning = "#b26a00",
        },
        PaletteDark = new PaletteDark
        {
            Primary = "#7c9bff",
            Secondary = "#9aa5b5",
            AppbarBackground = "#1b1f27",
            Background = "#12151b",
            Surface = "#1b1f27",
            DrawerBackground = "#1b1f27",
            Success = "#3fbf77",
            Error = "#ff6b73",
            Warning = "#f0a53a",
        },
        LayoutProperties = new LayoutProperties { DefaultBorderRadius = "6px" },
    };
}
