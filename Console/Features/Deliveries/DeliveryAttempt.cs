using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Deliveries;

public enum AttemptTrigger
{
    Initial = 0,
    Retry = 1,
    Resend = 2,
    Test = 3,
}

/// <summary>Why an attempt did not succeed.</summary>
public enum AttemptErrorClass
{
    None = 0,
    Timeout = 1,
    ConnectionRefused = 2,
    Dns = 3,
    Tls = 4,
    HttpStatus = 5,
    Blocked = 6,
    Other = 7,
}

/// <summary>One HTTP request to an endpoint, exactly as sent, and exactly what came back.</summary>
public sealed class DeliveryAttempt
{
    public Guid Id { get; set; }
    public Guid DeliveryId { get; set; }
    public Guid WorkspaceId { get; set; }
    public Guid EndpointId { get; set; }
    public int Number { get; set; }
    public AttemptTrigger Trigger { get; set; }
    public required string RequestUrl { get; set; }
    public required string RequestHeadersJson { get; set; }
    public required string RequestBody { get; set; }
    public int? ResponseStatus { get; set; }
    public string? ResponseHeadersJson { get; set; }
    /// <summary>At most 64 KiB of the body; <see cref="ResponseBodySize"/> keeps the original length.</summary>
    public string? ResponseBody { get; set; }
    public long? ResponseBodySize { get; set; }
    public int DurationMs { get; set; }
    public AttemptErrorClass ErrorClass { get; set; }
    public string? Error { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime CompletedAt { get; set; }

    public bool Succeeded => ResponseStatus is >= 200 and < 300;
}

internal sealed class DeliveryAttemptConfiguration : IEntityTypeConfiguration<DeliveryAttempt>
{
    public void Configure(EntityTypeBuilder<DeliveryAttempt> builder)
    {
        builder.ToTable("delivery_attempts");
        builder.Property(a => a.RequestUrl).HasMaxLength(2048);
        builder.Property(a => a.Error).HasMaxLength(1000);
        builder.HasIndex(a => new { a.DeliveryId, a.Number });
        // Campaign webhook logs: one row per attempt of one endpoint, newest first.
        builder.HasIndex(a => new { a.EndpointId, a.StartedAt }).IsDescending(false, true);
        builder.HasOne<Delivery>().WithMany().HasForeignKey(a => a.DeliveryId).OnDelete(DeleteBehavior.Cascade);
    }
}
