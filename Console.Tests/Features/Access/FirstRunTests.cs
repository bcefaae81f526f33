using DeliveryConsole.Features.Access;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Access;

/// <summary>A first run explains itself: progress, one banner with the generated password, an owner-only file that goes when the password is changed.</summary>
public sealed class FirstRunTests
{
    [SqliteFact]
    public async Task A_first_run_prints_progress_and_one_banner_and_keeps_the_password_in_an_owner_only_file()
    {
        using var folder = new TempFolder();
        var db = folder.File("dc.db");
        await using var node = await NodeProcess.StartAsync(folder.Path, [$"--Database:Path={db}"]);
        var file = Path.Combine(folder.Path, FirstRunPassword.FileName);
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!node.Log.Contains("Delivery Console is ready", StringComparison.Ordinal) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }

        var log = node.Log;
        Assert.Contains("Delivery Console: preparing the database", log);
        Assert.Contains("Delivery Console: database ready.", log);
        Assert.Contains($"Delivery Console is ready: {node.BaseUrl}", log);
        Assert.True(File.Exists(file), log);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }
        var password = File.ReadLines(file).Single(l => l.StartsWith("password:", StringComparison.Ordinal))["password:".Length..].Trim();
        Assert.Matches("^[A-Za-z0-9]{20}$", password);
        // Shown once, in the banner; the log line names the file, never the password.
        Assert.Equal(1, log.Split(password).Length - 1);
        Assert.Contains($"password     {password}", log);
        Assert.Contains(file, log);

        // The sign-in page says where to look.
        using var http = new HttpClient();
        var login = await http.GetStringAsync($"{node.BaseUrl}/account/login");
        Assert.Contains(FirstRunPassword.FileName, login);
        Assert.DoesNotContain(password, login);
    }

    [Fact]
    public async Task Changing_the_password_checks_the_current_one_is_audited_and_removes_the_first_run_file()
    {
        await using var app = new ConsoleAppFactory();
        var firstRun = app.Service<FirstRunPassword>();
        firstRun.Write(ConsoleAppFactory.AdminEmail, ConsoleAppFactory.AdminPassword);
        await using var read = await app.DbAsync();
        var admin = await read.Users.SingleAsync(u => u.Email == ConsoleAppFactory.AdminEmail);
        var workspace = await read.WorkspaceMembers.Where(m => m.UserId == admin.Id).Select(m => m.WorkspaceId).FirstAsync();
        var caller = new Caller(workspace, Role.Admin, "user", admin.Id, "Administrator");
        var users = app.Service<UserService>();

        var wrong = await Assert.ThrowsAsync<ValidationException>(() => users.ChangePasswordAsync(caller, "not-it", "New-Passw0rd-123"));
        Assert.Contains("current password is not right", wrong.Message);
        var weak = await Assert.ThrowsAsync<ValidationException>(() => users.ChangePasswordAsync(caller, ConsoleAppFactory.AdminPassword, "short"));
        Assert.Contains("10", weak.Message);
        Assert.True(firstRun.Exists);
        await Assert.ThrowsAsync<ForbiddenException>(() => users.ChangePasswordAsync(caller with { ActorType = "key" }, ConsoleAppFactory.AdminPassword, "New-Passw0rd-123"));

        await users.ChangePasswordAsync(caller, ConsoleAppFactory.AdminPassword, "New-Passw0rd-123");
        Assert.False(firstRun.Exists);
        await using var after = await app.DbAsync();
        Assert.True(await after.AuditEntries.AnyAsync(a => a.Action == "user.password_changed" && a.TargetId == admin.Id));
    }
}
