using System.Diagnostics;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Cli;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace DeliveryConsole.Tests.Features.Cli;

public sealed class CommandLineTests
{
    [Theory]
    [InlineData("")]
    [InlineData("--urls http://127.0.0.1:6000")]
    [InlineData("Database:Path=/tmp/x.db")]
    public void WebArguments_AreNotACommand(string args) =>
        Assert.Null(CommandLine.Parse(args.Split(' ', StringSplitOptions.RemoveEmptyEntries)));

    [Theory]
    [InlineData(new[] { "frobnicate" }, "'frobnicate'")]
    [InlineData(new[] { "keys", "delete" }, "'delete'")]
    [InlineData(new[] { "keys" }, "Did you mean 'keys create'")]
    [InlineData(new[] { "keys", "create" }, "needs --role")]
    [InlineData(new[] { "keys", "create", "--role", "root" }, "invalid role 'root'")]
    [InlineData(new[] { "keys", "create", "--role" }, "'--role'")]
    [InlineData(new[] { "keys", "create", "--role", "admin", "--colour", "red" }, "'--colour'")]
    [InlineData(new[] { "seed-demo", "--deliveries", "many" }, "--deliveries must be a whole number")]
    [InlineData(new[] { "seed-demo", "--deliveries", "0" }, "--deliveries must be a whole number")]
    [InlineData(new[] { "seed-demo", "--workspaces", "0" }, "--workspaces must be a whole number")]
    [InlineData(new[] { "staff" }, "Did you mean 'staff grant' or 'staff revoke'")]
    [InlineData(new[] { "staff", "grant", "--role", "admin" }, "needs --email")]
    [InlineData(new[] { "staff", "grant", "--email", "a@example.com" }, "needs --role viewer|operator|admin")]
    [InlineData(new[] { "staff", "grant", "--email", "a@example.com", "--role", "root" }, "invalid role 'root'")]
    [InlineData(new[] { "staff", "revoke", "--email", "a@example.com", "--role", "admin" }, "'--role'")]
    [InlineData(new[] { "rollups" }, "Did you mean 'rollups rebuild'")]
    [InlineData(new[] { "rollups", "rebuild", "--from", "yesterday" }, "--from must be a date")]
    [InlineData(new[] { "rollups", "rebuild", "--from", "2026-11-20", "--to", "2026-11-01" }, "--from must not be after --to")]
    public void BadArguments_GiveAClearError(string[] args, string message)
    {
        var command = CommandLine.Parse(args);
        Assert.NotNull(command?.Error);
        Assert.Contains(message, command.Error);
    }

    [Fact]
    public void KeysCreate_ParsesRoleWorkspaceAndConfiguration()
    {
        var command = CommandLine.Parse(["keys", "create", "--role", "Operator", "--workspace", "Acme", "--Database:Path=/tmp/a.db"])!;
        Assert.Null(command.Error);
        Assert.Equal(Role.Operator, command.Role);
        Assert.Equal("Acme", command.Options["workspace"]);
        Assert.Equal(["--Database:Path=/tmp/a.db"], command.HostArgs);
    }

    [SqliteFact]
    public async Task Process_UnknownVerb_And_BadRole_ExitNonZero_AndWriteNothing()
    {
        using var folder = new TempFolder();
        var db = folder.File("dc.db");

        var unknown = await RunAsync(folder.Path, "frobnicate", $"--Database:Path={db}");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("'frobnicate'", unknown.Error);

        var badRole = await RunAsync(folder.Path, "keys", "create", "--role", "root", $"--Database:Path={db}");
        Assert.Equal(2, badRole.ExitCode);
        Assert.Contains("invalid role 'root'", badRole.Error);
        Assert.Empty(badRole.Output);
        Assert.False(File.Exists(db), "a refused command must not create the database");
    }

    [SqliteFact]
    public async Task Process_KeysCreateJson_PrintsOnlyJsonOnStandardOutput_EvenOnAFreshDatabase()
    {
        using var folder = new TempFolder();
        var db = folder.File("dc.db");
        // No admin password given: the first run generates one and says so, on standard error only.
        var result = await RunAsync(folder.Path, "keys", "create", "--role", "admin", "--json", $"--Database:Path={db}");
        Assert.True(result.ExitCode == 0, result.Error);
        using var json = System.Text.Json.JsonDocument.Parse(result.Output);
        var root = json.RootElement;
        Assert.Matches("^dck_[0-9A-Za-z]{32}$", root.GetProperty("key").GetString());
        Assert.True(Guid.TryParse(root.GetProperty("id").GetString(), out _));
        Assert.StartsWith(root.GetProperty("prefix").GetString()!, root.GetProperty("key").GetString());
        Assert.Equal("admin", root.GetProperty("role").GetString());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("workspace").GetString()));
        Assert.Equal(["id", "key", "prefix", "role", "workspace"], root.EnumerateObject().Select(p => p.Name).Order().ToArray());
    }

    [SqliteFact]
    public async Task Process_Help_ListsTheVerbs_AndEachVerbHasItsOwn_WithoutTouchingTheDatabase()
    {
        using var folder = new TempFolder();
        var db = folder.File("dc.db");
        var help = await RunAsync(folder.Path, "help", $"--Database:Path={db}");
        Assert.Equal(0, help.ExitCode);
        foreach (var verb in new[] { "keys", "seed-demo", "staff", "rollups" })
        {
            Assert.Contains(verb, help.Output);
        }

        var keysHelp = await RunAsync(folder.Path, "keys", "create", "--help");
        Assert.Equal(0, keysHelp.ExitCode);
        Assert.Contains("--role", keysHelp.Output);
        Assert.Contains("--json", keysHelp.Output);
        var seedHelp = await RunAsync(folder.Path, "seed-demo", "--help");
        Assert.Contains("--deliveries", seedHelp.Output);
        Assert.False(File.Exists(db), "help must not create the database");
    }

    [SqliteTheory]
    [InlineData("--Delivery:Timeout=abc", "Delivery:Timeout = 'abc' is not valid: it must be a duration")]
    [InlineData("--Delivery:Timeout=99:00:00", "Delivery:Timeout = '99:00:00' is not valid: The field Timeout must be between")]
    [InlineData("--Delivery:MaxConcurrencyPerEndpoint=0", "Delivery:MaxConcurrencyPerEndpoint = '0' is not valid: The field MaxConcurrencyPerEndpoint must be between 1 and 1000")]
    [InlineData("--RateLimit:PermitLimit=lots", "RateLimit:PermitLimit = 'lots' is not valid: it must be a whole number")]
    public async Task Process_AnInvalidOption_StopsStartUpWithOneLine_AndExitCode2(string option, string message)
    {
        using var folder = new TempFolder();
        var db = folder.File("dc.db");
        // The web console itself (no verb): it must stop before it serves anything.
        var result = await RunAsync(folder.Path, "--urls", "http://127.0.0.1:0", option, $"--Database:Path={db}", "--Bootstrap:AdminPassword=Cli-Test-Passw0rd");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error);
        Assert.DoesNotContain("   at ", result.Error);
        Assert.DoesNotContain("Unhandled exception", result.Error);
        Assert.Single(result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("error:", StringComparison.Ordinal));
    }

    [SqliteFact]
    public async Task Process_UnreachableDatabasePath_ExitsWith2_AndAClearMessage()
    {
        using var folder = new TempFolder();
        var blocker = folder.File("file");
        await File.WriteAllTextAsync(blocker, "x");
        var result = await RunAsync(folder.Path, "keys", "create", "--role", "admin", $"--Database:Path={Path.Combine(blocker, "data", "dc.db")}");
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Cannot create the data folder", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
        Assert.Empty(result.Output);
    }

    [SqliteFact]
    public async Task Process_KeysCreate_PrintsAWorkingKey_InANewWorkspace()
    {
        using var folder = new TempFolder();
        var db = folder.File("dc.db");
        var result = await RunAsync(folder.Path, "keys", "create", "--role", "operator", "--workspace", "Acme Freight", $"--Database:Path={db}", "--Bootstrap:AdminPassword=Cli-Test-Passw0rd");
        Assert.True(result.ExitCode == 0, result.Error);
        var key = result.Output.Trim();
        Assert.Matches("^dck_[0-9A-Za-z]{32}$", key);
        Assert.Contains("Created workspace 'Acme Freight'", result.Error);

        await using var connection = new SqliteConnection($"Data Source={db}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT w.Name, k.Role FROM api_keys k JOIN workspaces w ON w.Id = k.WorkspaceId WHERE k.Hash = $hash";
        command.Parameters.AddWithValue("$hash", ApiKeyGenerator.Hash(key));
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal("Acme Freight", reader.GetString(0));
        Assert.Equal((int)Role.Operator, reader.GetInt32(1));
        SqliteConnection.ClearAllPools();
    }

    [SqliteFact]
    public async Task Process_RollupsRebuild_RecomputesTheRollupsFromTheRows()
    {
        using var folder = new TempFolder();
        var db = folder.File("dc.db");
        string[] config = [$"--Database:Path={db}", "--Bootstrap:AdminPassword=Cli-Test-Passw0rd"];
        var seeded = await RunAsync(folder.Path, ["seed-demo", "--deliveries", "300", .. config]);
        Assert.True(seeded.ExitCode == 0, seeded.Error);

        async Task<long> SumAsync(string sql)
        {
            await using var connection = new SqliteConnection($"Data Source={db};Pooling=False");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            return (long)(await command.ExecuteScalarAsync())!;
        }

        var deliveries = await SumAsync("SELECT COUNT(*) FROM deliveries");
        Assert.Equal(deliveries, await SumAsync("SELECT SUM(Created) FROM delivery_rollups"));

        // A consistent history: no attempt in the future, a call's deliveries after the call ended,
        // every completed call with a recording file that is there, bodies in the engine's envelope.
        var now = DateTime.UtcNow.AddSeconds(30).Ticks;
        Assert.Equal(0, await SumAsync($"SELECT COUNT(*) FROM delivery_attempts WHERE StartedAt > {now}"));
        Assert.Equal(0, await SumAsync("SELECT COUNT(*) FROM deliveries d JOIN calls c ON c.Id = d.CallId WHERE d.CreatedAt < COALESCE(c.CallEndTime, c.UpdatedAt) OR c.Status = 'IN_PROGRESS'"));
        Assert.True(await SumAsync("SELECT COUNT(*) FROM deliveries WHERE CallId IS NOT NULL") > 0);
        Assert.Equal(0, await SumAsync("SELECT COUNT(*) FROM calls WHERE Status = 'COMPLETED' AND (RecordingStatus <> 'available' OR RecordingPath IS NULL)"));
        Assert.True(File.Exists(Path.Combine(folder.Path, "recordings", "seed-demo.wav")));
        Assert.Equal(0, await SumAsync("SELECT COUNT(*) FROM deliveries WHERE json_extract(PayloadJson, '$.id') IS NOT EventId OR json_type(PayloadJson, '$.data') IS NULL"));

        await using (var connection = new SqliteConnection($"Data Source={db};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var wipe = connection.CreateCommand();
            wipe.CommandText = "DELETE FROM delivery_rollups; DELETE FROM latency_rollups;";
            await wipe.ExecuteNonQueryAsync();
        }

        var rebuilt = await RunAsync(folder.Path, ["rollups", "rebuild", .. config]);
        Assert.True(rebuilt.ExitCode == 0, rebuilt.Error);
        Assert.Contains("Rebuilt the delivery rollups of every hour", rebuilt.Output);
        Assert.Equal(deliveries, await SumAsync("SELECT SUM(Created) FROM delivery_rollups"));
        Assert.Equal(await SumAsync("SELECT COUNT(*) FROM delivery_attempts"), await SumAsync("SELECT SUM(Attempts) FROM delivery_rollups"));
        Assert.Equal(await SumAsync("SELECT COUNT(*) FROM deliveries WHERE Status = 2"), await SumAsync("SELECT SUM(Failed) FROM delivery_rollups"));
    }

    private sealed record ProcessResult(int ExitCode, string Output, string Error);

    private static async Task<ProcessResult> RunAsync(string workingDirectory, params string[] args)
    {
        var start = NodeProcess.Start(workingDirectory, args);
        start.Environment.Remove("ASPNETCORE_ENVIRONMENT");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        await process.WaitForExitAsync(timeout.Token);
        return new ProcessResult(process.ExitCode, await output, await error);
    }
}
