using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Webhooks;

public enum EndpointScope
{
    /// <summary>The workspace's one master webhook.</summary>
    Master = 0,
    /// <summary>An application's finishedUrl.</summary>
    Application = 1,
    /// <summary>One of a campaign's webhooks.</summary>
    Campaign = 2,
}

public enum EndpointStatus
{
    Active = 0,
    Disabled = 1,
}

/// <summary>A customer URL that receives signed deliveries.</summary>
public sealed class WebhookEndpoint
{
    public Guid Id { get; set; }
    public Guid WorkspaceId { get; set; }
    public EndpointScope Scope { get; set; }
    public Guid? ApplicationId { get; set; }
    public Guid? CampaignId { get; set; }
    public required string Url { get; set; }
    /// <summary>The <c>whsec_…</c> secret, encrypted with ASP.NET Core Data Protection (it must be readable to sign).</summary>
    public required string SecretProtected { get; set; }
    /// <summary>Which secret this is: 1 for the first, one more at each rotation (named by the signature debugger).</summary>
    public int SecretVersion { get; set; } = 1;
    /// <summary>The secret before the last rotation, still signing beside the current one until <see cref="PreviousSecretUntil"/>.</summary>
    public string? PreviousSecretProtected { get; set; }
    /// <summary>When the previous secret stops signing (the rotation's grace period ends); null when there is none.</summary>
    public DateTime? PreviousSecretUntil { get; set; }
    /// <summary>Event types this endpoint receives; empty means all.</summary>
    public List<string> EventTypes { get; set; } = [];
    /// <summary>How many prior events of context the master webhook payload carries (0-50).</summary>
    public int ContextLimit { get; set; } = 10;
    public EndpointStatus Status { get; set; }
    public string? DisabledReason { get; set; }
    public DateTime? DisabledAt { get; set; }
    public int ConsecutiveFailures { get; set; }
    public DateTime? LastFailureAt { get; set; }
    public string? LastError { get; set; }
    public DateTime? LastSuccessAt { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
    /// <summary>Set when the endpoint was deleted; deleted endpoints keep their history.</summary>
    public DateTime? DeletedAt { get; set; }

    /// <summary>
    /// Puts a new secret in place (the next version). The one it replaces keeps signing beside it
    /// until <paramref name="previousUntil"/> when given (a rotation's grace period); one signing
    /// in an earlier grace period stops at once.
    /// </summary>
    public void ReplaceSecret(string protectedSecret, DateTime? previousUntil)
    {
        PreviousSecretProtected = previousUntil is null ? null : SecretProtected;
        PreviousSecretUntil = previousUntil;
        SecretProtected = protectedSecret;
        SecretVersion++;
    }

    /// <summary>The previous secret while its grace period runs at <paramref name="at"/>, else null.</summary>
    public string? PreviousSecretStillSigning(DateTime at) => PreviousSecretUntil > at ? PreviousSecretProtected : null;

    public bool Receives(string eventType) => EventTypes.Count == 0 || EventTypes.Contains(eventType);
}

internal sealed class WebhookEndpointConfiguration : IEntityTypeConfiguration<WebhookEndpoint>
{
    public void Configure(EntityTypeBuilder<WebhookEndpoint> builder)
    {
        builder.ToTable("webhook_endpoints");
        builder.Property(e => e.Url).HasMaxLength(2048);
        builder.Property(e => e.SecretProtected).HasMaxLength(1024);
        builder.Property(e => e.PreviousSecretProtected).HasMaxLength(1024);
        builder.Property(e => e.SecretVersion).HasDefaultValue(1);
        builder.Property(e => e.DisabledReason).HasMaxLength(500);
        builder.Property(e => e.LastError).HasMaxLength(1000);
        builder.PrimitiveCollection(e => e.EventTypes);
        builder.HasIndex(e => new { e.WorkspaceId, e.Scope });
        builder.HasIndex(e => e.ApplicationId);
        builder.HasIndex(e => e.CampaignId);
        // Find anything: an endpoint by its URL or host (a prefix range on the URL).
        builder.HasIndex(e => e.Url);
        // One live master webhook per workspace, one live finishedUrl endpoint per application.
        builder.HasIndex(e => e.WorkspaceId, "UX_webhook_endpoints_master").IsUnique().HasFilter("\"Scope\" = 0 AND \"DeletedAt\" IS NULL");
        builder.HasIndex(e => e.ApplicationId, "UX_webhook_endpoints_application").IsUnique().HasFilter("\"Scope\" = 1 AND \"DeletedAt\" IS NULL");
        builder.HasOne<Workspaces.Workspace>().WithMany().HasForeignKey(e => e.WorkspaceId);
    }
}
