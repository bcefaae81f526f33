namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>The app with the delivery engine tuned for tests: loopback allowed, retries in fractions of a second.</summary>
public class EngineAppFactory : ConsoleAppFactory
{
    /// <summary>A second host on another factory's database (restart and two-node tests).</summary>
    public static EngineAppFactory OnDatabase(string databasePath) => new() { SharedDatabasePath = databasePath };

    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Delivery:AllowedPrivateNetworks"] = "127.0.0.1/32",
        ["Delivery:RetryDelays"] = "00:00:00.200,00:00:00.200,00:00:00.200,00:00:00.200,00:00:00.200",
        ["Delivery:Jitter"] = "0",
        ["Delivery:Timeout"] = "00:00:01",
        ["Delivery:SweepInterval"] = "00:00:00.300",
        ["Delivery:Lease"] = "00:00:05",
        ["Jobs:SchedulePollingInterval"] = "00:00:00.100",
        ["Jobs:WorkerCount"] = "4",
    };
}
