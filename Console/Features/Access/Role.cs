namespace DeliveryConsole.Features.Access;

/// <summary>What a caller may do. Each role includes everything of the ones below it.</summary>
public enum Role
{
    /// <summary>Reads only.</summary>
    Viewer = 0,
    /// <summary>Reads, plus resend, test, cancel, dispatch and end call.</summary>
    Operator = 1,
    /// <summary>Everything, including webhooks, applications, campaigns, keys and users.</summary>
    Admin = 2,
}

public static class Roles
{
    public static string ToWire(this Role role) => role switch
    {
        Role.Viewer => "viewer",
        Role.Operator => "operator",
        Role.Admin => "admin",
        _ => throw new ArgumentOutOfRangeException(nameof(role)),
    };

    public static bool TryParse(string? value, out Role role)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case "viewer": role = Role.Viewer; return true;
            case "operator": role = Role.Operator; return true;
            case "admin": role = Role.Admin; return true;
            default: role = default; return false;
        }
    }

    public const string AllowedList = "viewer, operator, admin";
}
