using System.Text.RegularExpressions;

namespace DeliveryConsole.Tests.Features.Deliveries;

/// <summary>
/// Delivery state (a delivery's status, attempts, lease, last-attempt fields and due time, its
/// attempts, and the endpoint's health) changes only in the ledger's module: the files of
/// Features/Deliveries/Engine/Ledger (the ledger's operations and the claim queue beside them). Every other file of the console is read for the
/// ways code can change those rows: SQL that writes the tables, EF Core adding, removing or bulk
/// updating them, and assignments to the endpoint's health fields.
/// </summary>
public sealed partial class OneOwnerOfDeliveryStateTests
{
    /// <summary>The ledger's module, and the demo seeder: it writes generated history in bulk and then rebuilds the rollups of its hours from the rows.</summary>
    private const string Module = "Features/Deliveries/Engine/Ledger/";

    private static readonly string[] Allowed = ["Features/Cli/DemoSeeder.cs"];

    private static bool IsAllowed(string relative) => relative.StartsWith(Module, StringComparison.Ordinal) || Allowed.Contains(relative);

    [GeneratedRegex("""(UPDATE|INSERT\s+INTO|DELETE\s+FROM|REPLACE\s+INTO)\s+"?(deliveries|delivery_attempts)\b""", RegexOptions.IgnoreCase)]
    private static partial Regex RawWrite();

    [GeneratedRegex("""\b(Deliveries|DeliveryAttempts)\s*\.\s*(Add|AddRange|Remove|RemoveRange|Update|UpdateRange|Attach)\s*\(""")]
    private static partial Regex TrackedWrite();

    [GeneratedRegex("""\b(Deliveries|DeliveryAttempts)\b[^;]*?\.\s*Execute(Update|Delete)(Async)?\s*\(""", RegexOptions.Singleline)]
    private static partial Regex BulkWrite();

    [GeneratedRegex("""\b(ConsecutiveFailures|LastSuccessAt|LastFailureAt)\b\s*(=(?!=)|\+\+|\+=)|SetProperty\(\s*\w+\s*=>\s*\w+\.(ConsecutiveFailures|LastSuccessAt|LastFailureAt)\b|"(ConsecutiveFailures|LastSuccessAt|LastFailureAt)"\s*=""")]
    private static partial Regex HealthWrite();

    private static IEnumerable<string> Violations(string text)
    {
        foreach (var pattern in new[] { RawWrite(), TrackedWrite(), BulkWrite(), HealthWrite() })
        {
            foreach (Match match in pattern.Matches(text))
            {
                yield return match.Value.Length > 80 ? match.Value[..80] + "…" : match.Value;
            }
        }
    }

    [Fact]
    public void The_scan_finds_each_way_of_changing_delivery_state()
    {
        Assert.NotEmpty(Violations("""await db.Deliveries.Where(d => d.Id == id).ExecuteUpdateAsync(s => s.SetProperty(d => d.Status, DeliveryStatus.Failed));"""));
        Assert.NotEmpty(Violations("""db.DeliveryAttempts.Add(attempt);"""));
        Assert.NotEmpty(Violations("""RawSql.Command(db, "UPDATE deliveries SET \"Status\" = 2")"""));
        Assert.NotEmpty(Violations("""RawSql.Command(db, "DELETE FROM delivery_attempts WHERE 1")"""));
        Assert.NotEmpty(Violations("""endpoint.ConsecutiveFailures = 0;"""));
        Assert.NotEmpty(Violations("""SetProperty(e => e.LastFailureAt, now)"""));
        Assert.Empty(Violations("""var list = await db.Deliveries.AsNoTracking().Where(d => d.Status == DeliveryStatus.Failed).ToListAsync();"""));
        Assert.Empty(Violations("""if (endpoint.ConsecutiveFailures == 0) { }"""));
    }

    [Fact]
    public void No_code_outside_the_ledger_changes_delivery_state()
    {
        var console = Path.Combine(RepositoryRoot(), "Console");
        var files = Directory.EnumerateFiles(console, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".cs", StringComparison.Ordinal) || f.EndsWith(".razor", StringComparison.Ordinal))
            .Select(f => (Full: f, Relative: Path.GetRelativePath(console, f).Replace('\\', '/')))
            .Where(f => !f.Relative.StartsWith("bin/", StringComparison.Ordinal) && !f.Relative.StartsWith("obj/", StringComparison.Ordinal)
                && !f.Relative.StartsWith("Data/Migrations/", StringComparison.Ordinal))
            .ToList();
        Assert.True(files.Count > 100, $"read the console's sources ({files.Count} files)");
        Assert.Contains(files, f => f.Relative == Module + "DeliveryLedger.Recording.cs");

        var found = files.Where(f => !IsAllowed(f.Relative))
            .SelectMany(f => Violations(File.ReadAllText(f.Full)).Select(v => $"{f.Relative}: {v}"))
            .ToList();
        Assert.True(found.Count == 0, "delivery state changed outside the ledger:\n" + string.Join("\n", found));

        // And the ledger's module does change it (the scan is not blind to its own patterns).
        Assert.NotEmpty(Violations(File.ReadAllText(Path.Combine(console, Module + "DeliveryLedger.Recording.cs"))));
    }

    private static string RepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "DeliveryConsole.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("DeliveryConsole.sln not found above " + AppContext.BaseDirectory);
    }
}
