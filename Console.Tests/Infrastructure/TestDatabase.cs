using DeliveryConsole.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>A test database (a SQLite file in a temp folder, or a PostgreSQL database: <see cref="TestProvider"/>), with the app's own context factory, for service-level tests.</summary>
public sealed class TestDatabase : IAsyncDisposable
{
    private readonly TempFolder _folder = new("dc-db");

    public TestDatabase()
    {
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton(Options.Create(TestProvider.OptionsFor(_folder.File("test.db"))));
        services.AddDbContextFactory<AppDbContext>((provider, options) =>
            options.UseConsoleDatabase(provider.GetRequiredService<IOptions<DatabaseOptions>>().Value));
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
