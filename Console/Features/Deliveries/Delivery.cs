using DeliveryConsole.Features.Webhooks;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Deliveries;

public enum DeliveryStatus
{
    Pending = 0,
    Delivered = 1,
    Failed = 2,
}

/// <summary>One event on its way to one endpoint, with everything the inspector filters and sorts on.</summary>
public sealed class Delivery
{
    public Guid Id { get; set; }
    public Guid WorkspaceId { get; set; }
    public required string EventId { get; set; }
    public Guid EndpointId { get; set; }
    /// <summary>Copied from the endpoint so the inspector filters without a join.</summary>
    public EndpointScope EndpointScope { get; set; }
    public Guid? ApplicationId { get; set; }
    public Guid? CampaignId { get; set; }
    public required string EventType { get; set; }
    public required string Channel { get; set; }
    public string? CallId { get; set; }
    /// <summary>The URL the delivery was created for (the endpoint's URL may change later).</summary>
    public required string TargetUrl { get; set; }
    /// <summary>Host of <see cref="TargetUrl"/>, lowercased, for search.</summary>
    public required string TargetHost { get; set; }
    /// <summary>The payload the next attempt sends; re-enriched on resend.</summary>
    public required string PayloadJson { get; set; }
    public DeliveryStatus Status { get; set; }
    public int Attempts { get; set; }
    public DateTime? NextAttemptAt { get; set; }
    /// <summary>A worker holds the row until then; see DESIGN.md, claim with a conditional UPDATE.</summary>
    public DateTime? LeaseUntil { get; set; }
    public string? LeaseOwner { get; set; }
    /// <summary>
    /// A resend asked while a send was in flight: the send is not doubled; when its attempt is
    /// recorded the delivery goes back to pending, due at once, and this is cleared.
    /// </summary>
    public DateTime? ResendRequestedAt { get; set; }
    public int? LastResponseStatus { get; set; }
    public string? LastError { get; set; }
    public int? LastDurationMs { get; set; }
    public DateTime? LastAttemptAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? DeliveredAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

internal sealed class DeliveryConfiguration : IEntityTypeConfiguration<Delivery>
{
    public void Configure(EntityTypeBuilder<Delivery> builder)
    {
        builder.ToTable("deliveries");
        builder.Property(d => d.EventId).HasMaxLength(40);
        builder.Property(d => d.EventType).HasMaxLength(100);
        builder.Property(d => d.Channel).HasMaxLength(16);
        builder.Property(d => d.CallId).HasMaxLength(48);
        builder.Property(d => d.TargetUrl).HasMaxLength(2048);
        builder.Property(d => d.TargetHost).HasMaxLength(255);
        builder.Property(d => d.LeaseOwner).HasMaxLength(64);
        builder.Property(d => d.LastError).HasMaxLength(1000);

        // The inspector's default order and its keyset pages.
        builder.HasIndex(d => new { d.WorkspaceId, d.CreatedAt, d.Id }).IsDescending(false, true, true);
        builder.HasIndex(d => new { d.WorkspaceId, d.Status, d.CreatedAt }).IsDescending(false, false, true);
        builder.HasIndex(d => new { d.WorkspaceId, d.EventType, d.CreatedAt }).IsDescending(false, false, true);
        builder.HasIndex(d => new { d.EndpointId, d.CreatedAt }).IsDescending(false, true);
        builder.HasIndex(d => new { d.ApplicationId, d.CreatedAt }).IsDescending(false, true);
        builder.HasIndex(d => new { d.WorkspaceId, d.Channel, d.CreatedAt }).IsDescending(false, false, true);
        // Host search: one host (or each host of a prefix) in the workspace, newest first.
        builder.HasIndex(d => new { d.TargetHost, d.WorkspaceId, d.CreatedAt }).IsDescending(false, false, true);
        // Which of these SQLite picks is steered by fixed statistics (Data/PlannerStatistics.cs), not by luck.
        // What the dispatcher claims: pending rows by due time (a claim moves it to the lease's end),
        // with the endpoint for its per-endpoint lanes, so a claim reads the index alone.
        builder.HasIndex(d => new { d.NextAttemptAt, d.EndpointId }).HasFilter("\"Status\" = 0").HasDatabaseName("IX_deliveries_due");
        builder.HasIndex(d => d.EventId);
        builder.HasIndex(d => d.CallId);

        builder.HasOne<Workspaces.Workspace>().WithMany().HasForeignKey(d => d.WorkspaceId);
        builder.HasOne<WebhookEvent>().WithMany().HasForeignKey(d => d.EventId);
        builder.HasOne<WebhookEndpoint>().WithMany().HasForeignKey(d => d.EndpointId);
    }
}
