using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace DeliveryConsole.Data;

/// <summary>
/// Lets <c>dotnet ef migrations add</c> build the model without starting the app. SQLite by
/// default; <c>-- --provider Postgres</c> for PostgreSQL's migrations (README, "Migrations").
/// </summary>
internal sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<AppDbContext>
{
    public AppDbContext CreateDbContext(string[] args)
    {
        var postgres = args.SkipWhile(a => a != "--provider").Skip(1).FirstOrDefault() is { } provider
            && provider.Equals(nameof(DatabaseProvider.Postgres), StringComparison.OrdinalIgnoreCase);
        var database = postgres
            ? new DatabaseOptions { Provider = DatabaseProvider.Postgres, ConnectionString = "Host=127.0.0.1;Database=design_time" }
            : new DatabaseOptions { Path = "design-time.db" };
        return new AppDbContext((DbContextOptions<AppDbContext>)new DbContextOptionsBuilder<AppDbContext>().UseConsoleDatabase(database).Options);
    }
}
