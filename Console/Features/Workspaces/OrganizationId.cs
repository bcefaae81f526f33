namespace DeliveryConsole.Features.Workspaces;

/// <summary>The calls and callbacks APIs call a workspace an organization: <c>org_&lt;uuid&gt;</c>.</summary>
public static class OrganizationId
{
    public static string Of(Guid workspaceId) => "org_" + workspaceId.ToString("D");

    /// <summary>True when <paramref name="value"/> names this workspace, as <c>org_&lt;uuid&gt;</c> or the bare uuid.</summary>
    public static bool Names(string value, Guid workspaceId)
    {
        var text = value.Trim();
        if (text.StartsWith("org_", StringComparison.OrdinalIgnoreCase))
        {
            text = text[4..];
        }

        return Guid.TryParse(text, out var id) && id == workspaceId;
    }
}
