using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>How far a recurring piece of engine work has got (ticks), so its next run starts there: <c>response-bodies-trimmed</c>.</summary>
public sealed class EngineMark
{
    public required string Name { get; set; }
    public long Value { get; set; }
}

internal sealed class EngineMarkConfiguration : IEntityTypeConfiguration<EngineMark>
{
    public void Configure(EntityTypeBuilder<EngineMark> builder)
    {
        builder.ToTable("engine_marks");
        builder.HasKey(m => m.Name);
        builder.Property(m => m.Name).HasMaxLength(64);
    }
}
