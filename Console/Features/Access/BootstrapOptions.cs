using System.ComponentModel.DataAnnotations;

namespace DeliveryConsole.Features.Access;

/// <summary>The first admin, created on first run in the default workspace.</summary>
public sealed class BootstrapOptions
{
    public const string Section = "Bootstrap";

    [Required, EmailAddress]
    public string AdminEmail { get; set; } = "admin@console.local";

    /// <summary>When absent, a password is generated and written once to the log.</summary>
    public string? AdminPassword { get; set; }
}
