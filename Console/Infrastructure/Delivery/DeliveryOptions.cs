using System.ComponentModel.DataAnnotations;
using DeliveryConsole.Features.Deliveries.Engine;

namespace DeliveryConsole.Infrastructure.Delivery;

/// <summary>How deliveries are sent and retried (section <c>Delivery</c>).</summary>
public sealed class DeliveryOptions : IValidatableObject
{
    public const string Section = "Delivery";

    /// <summary>
    /// Waits before each retry, as a comma-separated list ("00:00:10,00:01:00,…"). Attempts in
    /// total are one more than the delays: the default makes 6.
    /// </summary>
    public string RetryDelays { get; set; } = "00:00:10,00:01:00,00:05:00,00:30:00,02:00:00";

    /// <summary>Each delay is spread by up to this fraction either way, so retries of many deliveries do not arrive together.</summary>
    [Range(0.0, 0.5)]
    public double Jitter { get; set; } = 0.2;

    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a worker holds a claimed delivery before another may take it.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Lease { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How often the sweep enqueues due, unclaimed deliveries.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Networks that targets may resolve to although they are private or loopback, as CIDRs
    /// ("127.0.0.1/32,10.1.0.0/16"). Configuration may also give them as a list
    /// (<c>Delivery__AllowedPrivateNetworks__0=…</c>); <see cref="DeliveryEngineExtensions"/> joins it in.
    /// </summary>
    public string AllowedPrivateNetworks { get; set; } = "";

    /// <summary>How long an endpoint's lane pauses after a 429, 502, 503 or 504 without Retry-After (with one: as long as it says, at most 30 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:01:00")]
    public TimeSpan SlowDownPause { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>At most this many deliveries being sent at once by this process, over all endpoints.</summary>
    [Range(1, 10_000)]
    public int MaxInFlight { get; set; } = 256;

    /// <summary>At most this many requests in flight to one endpoint from this process.</summary>
    [Range(1, 1000)]
    public int MaxConcurrencyPerEndpoint { get; set; } = 8;

    /// <summary>Response bodies are kept up to this many bytes; the original size is kept too.</summary>
    [Range(1024, 10 * 1024 * 1024)]
    public int ResponseBodyLimit { get; set; } = 64 * 1024;

    /// <summary>An endpoint is disabled when every delivery of the last <see cref="DisableWindow"/> failed and at least this many did.</summary>
    [Range(1, 100_000)]
    public int DisableAfterFailures { get; set; } = 20;

    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan DisableWindow { get; set; } = TimeSpan.FromHours(24);

    /// <summary>The console's address as customers reach it, for links in payloads (recordings).</summary>
    [Required]
    public string PublicBaseUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Finished deliveries older than this are removed with their attempts (the hourly rollups keep their figures).</summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "3650.00:00:00")]
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Response bodies of attempts older than this are removed sooner than the attempts themselves
    /// (status, headers, size and timing stay until <see cref="Retention"/>); they are the bulk of
    /// the file. At or above <see cref="Retention"/> nothing is trimmed early.
    /// </summary>
    [Range(typeof(TimeSpan), "01:00:00", "3650.00:00:00")]
    public TimeSpan ResponseBodyRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Deliveries removed per transaction by the retention job.</summary>
    [Range(10, 10_000)]
    public int RetentionBatch { get; set; } = 500;

    /// <summary>How long a signed recording link works.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan RecordingLinkLifetime { get; set; } = TimeSpan.FromHours(24);

    public IReadOnlyList<TimeSpan> ParsedRetryDelays =>
        RetryDelays.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(d => TimeSpan.Parse(d, System.Globalization.CultureInfo.InvariantCulture))
            .ToList();

    public int MaxAttempts => ParsedRetryDelays.Count + 1;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        IReadOnlyList<TimeSpan>? delays = null;
        string? error = null;
        try
        {
            delays = ParsedRetryDelays;
        }
        catch (FormatException)
        {
            error = $"Delivery:RetryDelays must be a comma-separated list of TimeSpans like 00:00:10, not '{RetryDelays}'.";
        }

        if (error is null && (delays!.Count > 20 || delays.Any(d => d < TimeSpan.Zero || d > TimeSpan.FromDays(7))))
        {
            error = "Delivery:RetryDelays takes at most 20 delays, each between 0 and 7 days.";
        }

        if (error is not null)
        {
            yield return new ValidationResult(error, [nameof(RetryDelays)]);
        }

        if (!HttpUrl.IsAbsolute(PublicBaseUrl))
        {
            yield return new ValidationResult(HttpUrl.Rule("Delivery:PublicBaseUrl", PublicBaseUrl), [nameof(PublicBaseUrl)]);
        }

        if (!NetworkAllowList.TryParse(AllowedPrivateNetworks, out _, out var networkError))
        {
            yield return new ValidationResult(networkError, [nameof(AllowedPrivateNetworks)]);
        }
    }
}
