using DeliveryConsole.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>A migrated SQLite file in a temp folder, with the app's own context factory, for service-level tests.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly TempFolder _folder = new("dc-db");

    public TestDatabase()
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton(Options.Create(new DatabaseOptions { Path = _folder.File("test.db") }));
        services.AddDbContextFactory<AppDbContext>((provider, options) =>
        {
            var database = provider.GetRequiredService<IOptions<DatabaseOptions>>().Value;
            options.UseSqlite(database.ConnectionString).AddInterceptors(new SqlitePragmaInterceptor(database.BusyTimeoutMs));
        });
        Services = services.BuildServiceProvider();
    }

    public ServiceProvider Services { get; }

    public string Path => _folder.File("test.db");

    public IDbContextFactory<AppDbContext> Factory => Services.GetRequiredService<IDbContextFactory<AppDbContext>>();

    public Task MigrateAsync() => Services.MigrateDatabaseAsync();

    public async ValueTask DisposeAsync()
    {
        await Services.DisposeAsync();
        _folder.Dispose();
    }
}
