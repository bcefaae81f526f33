using MudBlazor;

namespace DeliveryConsole.Components.Layout;

/// <summary>
/// The console's palette: calm neutrals, status colours that read in both modes. Every status colour
/// meets WCAG AA (4.5:1) as text on the page and on its own light tint, and with the text of a filled
/// chip or button: white on the darker light-mode colours, near-black on the brighter dark-mode ones.
/// </summary>
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
            Success = "#17753f",
            Error = "#c62f3b",
            Warning = "#8a5300",
            Info = "#1565c0",
            TextSecondary = "#5c5f66",
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
            Info = "#3299ff",
            PrimaryContrastText = "#10131a",
            SuccessContrastText = "#10131a",
            ErrorContrastText = "#10131a",
            WarningContrastText = "#10131a",
            InfoContrastText = "#10131a",
        },
        LayoutProperties = new LayoutProperties { DefaultBorderRadius = "6px" },
    };
}
