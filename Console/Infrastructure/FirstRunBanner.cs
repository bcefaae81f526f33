using DeliveryConsole.Data;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Infrastructure;

/// <summary>The one block a first run prints: where the console is, who signs in, with which generated password, and where that password is kept.</summary>
public static class FirstRunBanner
{
    public static string Text(string? urls, StartupReport report)
    {
        var rule = new string('=', 72);
        var lines = new List<string> { "", rule };
        lines.Add(urls is null ? "  Delivery Console: first run." : $"  Delivery Console is ready: {urls}");
        lines.Add($"  Sign in as   {report.AdminEmail}");
        lines.Add($"  password     {report.GeneratedPassword}");
        lines.Add($"  (also in {report.PasswordFile},");
        lines.Add("   readable only by this account; deleted when you change the password");
        lines.Add("   from the account menu. Set Bootstrap:AdminPassword to choose one instead.)");
        lines.Add(rule);
        lines.Add("");
        return string.Join(Environment.NewLine, lines);
    }

    /// <summary>Where the data lives, for the progress line (the SQLite file, or the PostgreSQL host and database, never a password).</summary>
    public static string DescribeDatabase(this IServiceProvider services) => services.GetRequiredService<IOptions<DatabaseOptions>>().Value.Description;
}
