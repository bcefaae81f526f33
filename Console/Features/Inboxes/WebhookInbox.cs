using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Inboxes;

/// <summary>
/// A webhook inbox (what Svix Play and webhook.site give, inside the console): a URL served by this
/// console that records every request it receives, verifies the Standard Webhooks signature with the
/// secret of the endpoint it stands for, and answers with a chosen status after a chosen delay, to
/// rehearse failures. It expires; it keeps its newest <see cref="InboxService.KeptRequests"/> requests.
/// </summary>
public sealed class WebhookInbox
{
    public Guid Id { get; set; }
    public Guid WorkspaceId { get; set; }
    public required string Name { get; set; }
    /// <summary>The URL's secret part: whoever knows it may post to the inbox (as with any webhook URL).</summary>
    public required string Token { get; set; }
    /// <summary>The endpoint whose secret verifies signatures; null verifies nothing.</summary>
    public Guid? EndpointId { get; set; }
    /// <summary>The HTTP status every request gets.</summary>
    public int AnswerStatus { get; set; } = 200;
    /// <summary>How long the inbox waits before answering, in milliseconds.</summary>
    public int AnswerDelayMs { get; set; }
    public DateTime ExpiresAt { get; set; }
    public required string CreatedBy { get; set; }
    public DateTime CreatedAt { get; set; }
    /// <summary>Every request received, including those no longer kept.</summary>
    public long ReceivedCount { get; set; }
    public DateTime? LastReceivedAt { get; set; }
}

/// <summary>One request an inbox received, as it arrived (body kept up to <see cref="InboxService.KeptBodyBytes"/>).</summary>
public sealed class InboxRequest
{
    public Guid Id { get; set; }
    public Guid InboxId { get; set; }
    public Guid WorkspaceId { get; set; }
    public DateTime ReceivedAt { get; set; }
    public required string Method { get; set; }
    public required string Path { get; set; }
    public required string HeadersJson { get; set; }
    public required string Body { get; set; }
    /// <summary>The body's full size in bytes (the kept text may be shorter).</summary>
    public long BodySize { get; set; }
    public string? RemoteAddress { get; set; }
    /// <summary>verified, mismatch, unsigned, stale or not_checked (no endpoint chosen).</summary>
    public required string Signature { get; set; }
    /// <summary>What the verdict rests on, in words: which secret version matched, what was missing.</summary>
    public string? SignatureDetail { get; set; }
    public int AnsweredStatus { get; set; }
}

internal sealed class WebhookInboxConfiguration : IEntityTypeConfiguration<WebhookInbox>
{
    public void Configure(EntityTypeBuilder<WebhookInbox> builder)
    {
        builder.ToTable("webhook_inboxes");
        builder.Property(i => i.Name).HasMaxLength(200);
        builder.Property(i => i.Token).HasMaxLength(64);
        builder.Property(i => i.CreatedBy).HasMaxLength(256);
        builder.HasIndex(i => i.Token).IsUnique();
        builder.HasIndex(i => new { i.WorkspaceId, i.CreatedAt });
        builder.HasIndex(i => i.ExpiresAt);
        builder.HasOne<Workspaces.Workspace>().WithMany().HasForeignKey(i => i.WorkspaceId);
    }
}

internal sealed class InboxRequestConfiguration : IEntityTypeConfiguration<InboxRequest>
{
    public void Configure(EntityTypeBuilder<InboxRequest> builder)
    {
        builder.ToTable("inbox_requests");
        builder.Property(r => r.Method).HasMaxLength(16);
        builder.Property(r => r.Path).HasMaxLength(2048);
        builder.Property(r => r.RemoteAddress).HasMaxLength(64);
        builder.Property(r => r.Signature).HasMaxLength(16);
        builder.Property(r => r.SignatureDetail).HasMaxLength(500);
        builder.HasIndex(r => new { r.InboxId, r.ReceivedAt });
        builder.HasOne<WebhookInbox>().WithMany().HasForeignKey(r => r.InboxId).OnDelete(DeleteBehavior.Cascade);
    }
}
