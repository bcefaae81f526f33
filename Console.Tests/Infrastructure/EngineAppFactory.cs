namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>The app with the delivery engine tuned for tests: loopback allowed, retries in fractions of a second.</summary>
public class EngineAppFactory : ConsoleAppFactory
{
    /// <summary>A second host on another factory's database (restart and two-node tests).</summary>
    public static EngineAppFactory OnDatabase(string databasePath) => new() { SharedDatabasePath = databasePath };

    /// <summary>A host whose telephony provider is the Http one, at <paramref name="baseUrl"/>.</summary>
    public static EngineAppFactory WithHttpTelephony(string baseUrl) => new HttpTelephonyFactory(baseUrl);

    private sealed class HttpTelephonyFactory(string baseUrl) : EngineAppFactory
    {
        protected override IEnumerable<KeyValuePair<string, string?>> More =>
        [
            new("Telephony:Provider", "Http"),
            new("Telephony:BaseUrl", baseUrl),
            new("Telephony:Token", "provider-token"),
            new("Telephony:Timeout", "00:00:02"),
        ];
    }

    /// <summary>Extra settings of a derived host (a provider on a test port).</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> More => [];

    protected override IDictionary<string, string?> Settings => WithMore(new Dictionary<string, string?>
    {
        // Simulated calls: answered at once, then live for a minute (tests end them).
        ["Telephony:RingSeconds"] = "0.2",
        ["Telephony:AnswerProbability"] = "1",
        ["Telephony:MinDurationSeconds"] = "60",
        ["Telephony:MaxDurationSeconds"] = "60",
        ["Telephony:RefuseNumbers:0"] = "+15550000000",
        ["Telephony:EventsToken"] = "test-events-token",
        ["Delivery:AllowedPrivateNetworks"] = "127.0.0.1/32",
        ["Delivery:RetryDelays"] = "00:00:00.200,00:00:00.200,00:00:00.200,00:00:00.200,00:00:00.200",
        ["Delivery:Jitter"] = "0",
        ["Delivery:Timeout"] = "00:00:01",
        ["Delivery:SweepInterval"] = "00:00:00.300",
        ["Delivery:Lease"] = "00:00:05",
        ["Delivery:SlowDownPause"] = "00:00:00.050",
        ["Jobs:SchedulePollingInterval"] = "00:00:00.100",
        ["Jobs:WorkerCount"] = "4",
    });

    /// <summary>The engine's test settings with a subclass's <see cref="More"/> over them (they win).</summary>
    private IDictionary<string, string?> WithMore(Dictionary<string, string?> settings)
    {
        foreach (var (key, value) in More)
        {
            settings[key] = value;
        }

        return settings;
    }
}
