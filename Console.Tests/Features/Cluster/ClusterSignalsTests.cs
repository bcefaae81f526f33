using System.Collections.Concurrent;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Tests.Features.Cluster;

/// <summary>LISTEN/NOTIFY between nodes: signals reach the other nodes (not the sender), and exactly one node leads, another takes over when it goes.</summary>
public sealed class ClusterSignalsTests
{
    private static PostgresSignals Node(string connectionString) => new(
        Options.Create(new DeliveryConsole.Data.DatabaseOptions { Provider = DeliveryConsole.Data.DatabaseProvider.Postgres, ConnectionString = connectionString }),
        NullLogger<PostgresSignals>.Instance);

    private static async Task UntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!condition() && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
    }

    [PostgresFact]
    public async Task A_signal_reaches_the_other_nodes_once_and_not_its_sender_and_one_node_leads_at_a_time()
    {
        using var folder = new TempFolder("dc-signals");
        var connectionString = TestProvider.ConnectionStringFor(folder.File("dc.db"));
        var x = Node(connectionString);
        var y = Node(connectionString);
        var atX = new ConcurrentQueue<string>();
        var atY = new ConcurrentQueue<string>();
        x.Subscribe(ClusterChannels.Live, atX.Enqueue);
        y.Subscribe(ClusterChannels.Live, atY.Enqueue);
        await x.StartAsync(CancellationToken.None);
        await y.StartAsync(CancellationToken.None);
        try
        {
            await UntilAsync(() => x.IsLeader || y.IsLeader, TimeSpan.FromSeconds(5));
            Assert.True(x.IsLeader ^ y.IsLeader, "exactly one node leads");
            await Task.Delay(300); // both listening

            var workspace = Guid.NewGuid().ToString("D");
            x.Publish(ClusterChannels.Live, workspace);
            x.Publish(ClusterChannels.Live, workspace);
            await UntilAsync(() => !atY.IsEmpty, TimeSpan.FromSeconds(5));
            await Task.Delay(200);
            Assert.Contains(workspace, atY);
            Assert.True(atY.Count(p => p == workspace) <= 2);
            Assert.Empty(atX);

            // The leader goes (its connection and its lock with it): the other leads within seconds.
            var (leader, other) = x.IsLeader ? (x, y) : (y, x);
            await leader.StopAsync(CancellationToken.None);
            await UntilAsync(() => other.IsLeader, TimeSpan.FromSeconds(10));
            Assert.True(other.IsLeader, "the remaining node took over");
        }
        finally
        {
            await x.StopAsync(CancellationToken.None);
            await y.StopAsync(CancellationToken.None);
            x.Dispose();
            y.Dispose();
        }
    }
}
