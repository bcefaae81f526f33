namespace DeliveryConsole.Features.Dashboard;

public enum ChangeDirection
{
    Flat,
    Up,
    Down,
}

/// <summary>
/// A figure's change against the previous window of the same length: its direction, whether that
/// is good news (more failures is bad, more deliveries is neutral), and the text beside the arrow.
/// </summary>
public sealed record KpiChange(ChangeDirection Direction, bool? IsGood, string Text)
{
    /// <summary>Relative change of a count or a duration; <paramref name="upIsGood"/> null when neither way is good or bad.</summary>
    public static KpiChange Relative(double? current, double? previous, bool? upIsGood, string windowText)
    {
        if (current is null || previous is null)
        {
            return new KpiChange(ChangeDirection.Flat, null, $"no data for the previous {windowText}");
        }

        if (previous == 0)
        {
            return current == 0
                ? new KpiChange(ChangeDirection.Flat, null, $"no change vs previous {windowText}")
                : new KpiChange(ChangeDirection.Up, upIsGood, $"new vs previous {windowText} (0)");
        }

        var percent = (current.Value - previous.Value) / previous.Value * 100;
        return Of(percent, 0.05, upIsGood, $"{percent:+0.0;-0.0}% vs previous {windowText}");
    }

    /// <summary>Change of a percentage in percentage points (a success rate).</summary>
    public static KpiChange Points(double? current, double? previous, bool upIsGood, string windowText)
    {
        if (current is null || previous is null)
        {
            return new KpiChange(ChangeDirection.Flat, null, $"no data for the previous {windowText}");
        }

        var points = current.Value - previous.Value;
        return Of(points, 0.005, upIsGood, $"{points:+0.00;-0.00} pts vs previous {windowText}");
    }

    private static KpiChange Of(double delta, double epsilon, bool? upIsGood, string text) =>
        Math.Abs(delta) < epsilon
            ? new KpiChange(ChangeDirection.Flat, null, text.Replace("+0.0%", "no change").Replace("-0.0%", "no change"))
            : new KpiChange(delta > 0 ? ChangeDirection.Up : ChangeDirection.Down, upIsGood is { } good ? delta > 0 == good : null, text);
}
