using System.Reflection;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.EntityFrameworkCore.Migrations.Internal;

namespace DeliveryConsole.Data;

/// <summary>
/// One EF model, one set of migrations per provider (Microsoft's multiple-providers pattern):
/// SQLite's in <c>Data/Migrations</c>, PostgreSQL's in <c>Data/Migrations/Postgres</c>, told apart by
/// namespace. They live in the app's own assembly because the context and its entities do: a
/// separate migrations assembly would have to reference the app and be referenced by it. EF sees
/// only the set of the context's provider, for <c>Migrate</c> and for <c>dotnet ef migrations add</c>.
/// </summary>
#pragma warning disable EF1001 // MigrationsAssembly is EF's internal default; only the lists are narrowed.
public sealed class ProviderMigrationsAssembly(
    ICurrentDbContext currentContext,
    IDbContextOptions options,
    IMigrationsIdGenerator idGenerator,
    IDiagnosticsLogger<DbLoggerCategory.Migrations> logger)
    : MigrationsAssembly(currentContext, options, idGenerator, logger)
{
    public const string SqliteNamespace = "DeliveryConsole.Data.Migrations";
    public const string PostgresNamespace = "DeliveryConsole.Data.Migrations.Postgres";

    private readonly string _namespace = currentContext.Context.Database.ProviderName == "Npgsql.EntityFrameworkCore.PostgreSQL" ? PostgresNamespace : SqliteNamespace;
    private readonly Type _contextType = currentContext.Context.GetType();
    private IReadOnlyDictionary<string, TypeInfo>? _migrations;
    private ModelSnapshot? _snapshot;
    private bool _snapshotRead;

    public override IReadOnlyDictionary<string, TypeInfo> Migrations =>
        _migrations ??= base.Migrations.Where(m => m.Value.Namespace == _namespace).ToDictionary(m => m.Key, m => m.Value);

    public override ModelSnapshot? ModelSnapshot
    {
        get
        {
            if (!_snapshotRead)
            {
                var type = Assembly.DefinedTypes.FirstOrDefault(t => !t.IsAbstract && !t.IsGenericTypeDefinition
                    && t.IsSubclassOf(typeof(ModelSnapshot)) && t.Namespace == _namespace
                    && t.GetCustomAttribute<DbContextAttribute>()?.ContextType == _contextType);
                _snapshot = type is null ? null : (ModelSnapshot)Activator.CreateInstance(type.AsType())!;
                _snapshotRead = true;
            }

            return _snapshot;
        }
    }

    public override string? FindMigrationId(string nameOrId) =>
        Migrations.Keys.Where(id => string.Equals(id, nameOrId, StringComparison.OrdinalIgnoreCase)
                || string.Equals(id[(id.IndexOf('_') + 1)..], nameOrId, StringComparison.OrdinalIgnoreCase))
            .FirstOrDefault();
}
#pragma warning restore EF1001
