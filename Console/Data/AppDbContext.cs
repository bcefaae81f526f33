using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Features.Callbacks;
using DeliveryConsole.Features.Calls;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Stats;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Features.Workspaces;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Data;

public sealed class AppDbContext(DbContextOptions<AppDbContext> options) : IdentityDbContext<ApplicationUser>(options), IDataProtectionKeyContext
{
    /// <summary>Data protection keys, used on PostgreSQL (several nodes must read the same keys); SQLite keeps them in files.</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    public DbSet<Workspace> Workspaces => Set<Workspace>();
    public DbSet<WorkspaceMember> WorkspaceMembers => Set<WorkspaceMember>();
    public DbSet<Features.Portal.PortalLink> PortalLinks => Set<Features.Portal.PortalLink>();
    public DbSet<Features.Deliveries.SavedView> SavedViews => Set<Features.Deliveries.SavedView>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<WebhookEndpoint> WebhookEndpoints => Set<WebhookEndpoint>();
    public DbSet<Application> Applications => Set<Application>();
    public DbSet<Campaign> Campaigns => Set<Campaign>();
    public DbSet<WebhookEvent> Events => Set<WebhookEvent>();
    public DbSet<Delivery> Deliveries => Set<Delivery>();
    public DbSet<DeliveryAttempt> DeliveryAttempts => Set<DeliveryAttempt>();
    public DbSet<Call> Calls => Set<Call>();
    public DbSet<Callback> Callbacks => Set<Callback>();
    public DbSet<DeliveryRollup> DeliveryRollups => Set<DeliveryRollup>();
    public DbSet<LatencyRollup> LatencyRollups => Set<LatencyRollup>();
    public DbSet<WorkspaceLatencyRollup> WorkspaceLatencyRollups => Set<WorkspaceLatencyRollup>();
    public DbSet<Features.Deliveries.Engine.ReplayRun> ReplayRuns => Set<Features.Deliveries.Engine.ReplayRun>();
    public DbSet<Features.Deliveries.Engine.EngineMark> EngineMarks => Set<Features.Deliveries.Engine.EngineMark>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(AppDbContext).Assembly);
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite cannot order or compare DateTimeOffset, and compares DateTime text only by luck:
        // every timestamp is stored as UTC ticks, which sort and compare as plain integers.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcTicksConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcTicksConverter>();
        // Lowercase canonical text, as the API prints ids, so raw SQL and the API agree.
        configurationBuilder.Properties<Guid>().HaveConversion<LowercaseGuidConverter>();
        configurationBuilder.Properties<Guid?>().HaveConversion<LowercaseGuidConverter>();
        if (this.IsPostgres())
        {
            // Text sorts and compares by code point, as on SQLite (and a host prefix can use a b-tree index).
            configurationBuilder.Properties<string>().UseCollation("C");
            configurationBuilder.Properties<Guid>().UseCollation("C");
            configurationBuilder.Properties<Guid?>().UseCollation("C");
        }
    }
}
