using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace DeliveryConsole.Data;

/// <summary>Stores a DateTime as UTC ticks; reads it back with <see cref="DateTimeKind.Utc"/>.</summary>
public sealed class UtcTicksConverter() : ValueConverter<DateTime, long>(
    v => ToTicks(v),
    v => new DateTime(v, DateTimeKind.Utc))
{
    public static long ToTicks(DateTime value) =>
        value.Kind == DateTimeKind.Local ? value.ToUniversalTime().Ticks : value.Ticks;
}

/// <summary>Stores a Guid as its lowercase "D" text.</summary>
public sealed class LowercaseGuidConverter() : ValueConverter<Guid, string>(
    v => v.ToString("D"),
    v => Guid.Parse(v));
