using DeliveryConsole.Data;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Access;

/// <summary>
/// The first run's generated admin password, kept in a file beside the database that only the
/// account running the console may read (mode 600), so it is not lost with the terminal's
/// scroll-back. Deleted when the admin changes their password. Never written to a log.
/// </summary>
public sealed class FirstRunPassword(IOptions<DatabaseOptions> database)
{
    public const string FileName = "admin-password.txt";

    public string Path => System.IO.Path.GetFullPath(System.IO.Path.Combine(database.Value.DataFolder, FileName));

    public bool Exists => File.Exists(Path);

    public void Write(string email, string password)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(Path)!);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(Path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write($"""
                Delivery Console: the first admin, created on the first run.
                email:    {email}
                password: {password}

                Sign in and change the password (account menu, Change password): this file is then deleted.

                """);
        }

        if (!OperatingSystem.IsWindows())
        {
            // An existing file keeps its mode on open: make sure it is the owner's only.
            File.SetUnixFileMode(Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>Whether the file is about the account with <paramref name="email"/>.</summary>
    public bool Names(string? email) =>
        email is not null && Exists && File.ReadLines(Path).Any(line => line.Trim().Equals($"email:    {email}", StringComparison.OrdinalIgnoreCase));

    public void Delete()
    {
        if (File.Exists(Path))
        {
            File.Delete(Path);
        }
    }
}
