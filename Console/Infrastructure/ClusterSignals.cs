using System.Collections.Concurrent;
using DeliveryConsole.Data;
using Microsoft.Extensions.Options;
using Npgsql;

namespace DeliveryConsole.Infrastructure;

/// <summary>
/// What one node tells the others on a shared database: deliveries are due (wake your
/// dispatcher), an endpoint changed (forget your endpoint cache), a workspace's deliveries changed
/// (refresh open pages). And which node runs the cluster's once-only loops (the sweeps). On SQLite
/// there is one node: nothing travels and it always leads.
/// </summary>
public interface IClusterSignals
{
    /// <summary>Tells the other nodes; a signal already waiting to be sent is not sent twice.</summary>
    void Publish(string channel, string payload = "");

    /// <summary>
    /// Calls <paramref name="handler"/> with the payload of every signal another node publishes on
    /// <paramref name="channel"/>, and with <see cref="Resync"/> after the connection to the others
    /// was lost and found again (signals may have been missed). Handlers must be quick.
    /// </summary>
    void Subscribe(string channel, Action<string> handler);

    /// <summary>True on the one node that runs the cluster's sweeps.</summary>
    bool IsLeader { get; }
}

public static class ClusterChannels
{
    public const string Wake = "dc_wake";
    public const string Endpoints = "dc_endpoints";
    public const string Live = "dc_live";

    /// <summary>Console sessions ended (<c>s:{session id}</c> or <c>u:{user id}</c>): open circuits of them sign out.</summary>
    public const string Sessions = "dc_sessions";

    /// <summary>The payload handlers get after signals may have been missed.</summary>
    public const string Resync = "*";
}

/// <summary>One node alone (SQLite): nothing to tell, and it leads.</summary>
public sealed class LocalSignals : IClusterSignals
{
    public void Publish(string channel, string payload = "")
    {
    }

    public void Subscribe(string channel, Action<string> handler)
    {
    }

    public bool IsLeader => true;
}

/// <summary>
/// PostgreSQL's LISTEN/NOTIFY between the nodes of one database. Publishing queues the signal
/// (a signal already queued is not queued again) and one sender loop sends what queued up in one
/// statement, so a burst of publishes costs one round trip. One listening connection receives the
/// others' signals (its own are recognised by their origin and skipped) and holds the session
/// advisory lock that makes its node the leader; when that connection is lost, so is the lock, and
/// another node takes it within seconds.
/// </summary>
public sealed class PostgresSignals(IOptions<DatabaseOptions> database, ILogger<PostgresSignals> logger) : BackgroundService, IClusterSignals
{
    private const long LeaderLockKey = 7301955123;
    private static readonly string[] Channels = [ClusterChannels.Wake, ClusterChannels.Endpoints, ClusterChannels.Live, ClusterChannels.Sessions];
    private static readonly TimeSpan LeaderCheck = TimeSpan.FromSeconds(2);

    private readonly string _origin = Guid.NewGuid().ToString("N")[..12];
    private readonly ConcurrentDictionary<(string Channel, string Payload), byte> _pending = new();
    private readonly SemaphoreSlim _send = new(0, 1);
    private readonly ConcurrentDictionary<string, Action<string>[]> _handlers = new();
    private volatile bool _leader;

    public bool IsLeader => _leader;

    public void Publish(string channel, string payload = "")
    {
        if (_pending.TryAdd((channel, payload), 0))
        {
            try
            {
                if (_send.CurrentCount == 0)
                {
                    _send.Release();
                }
            }
            catch (SemaphoreFullException)
            {
                // Already signalled.
            }
        }
    }

    public void Subscribe(string channel, Action<string> handler) =>
        _handlers.AddOrUpdate(channel, [handler], (_, existing) => [.. existing, handler]);

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Task.Run(() => ListenAsync(stoppingToken), stoppingToken), Task.Run(() => SendAsync(stoppingToken), stoppingToken));

    private string ConnectionString(string name) => new NpgsqlConnectionStringBuilder(database.Value.PostgresConnectionString)
    {
        ApplicationName = name,
        Pooling = false,
        KeepAlive = 10,
        MaxAutoPrepare = 0,
    }.ToString();

    private async Task SendAsync(CancellationToken stoppingToken)
    {
        NpgsqlConnection? connection = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await _send.WaitAsync(stoppingToken);
                var batch = _pending.Keys.ToList();
                foreach (var key in batch)
                {
                    _pending.TryRemove(key, out _);
                }

                if (batch.Count == 0)
                {
                    continue;
                }

                try
                {
                    if (connection is null)
                    {
                        connection = new NpgsqlConnection(ConnectionString("delivery-console-signals"));
                        await connection.OpenAsync(stoppingToken);
                    }

                    await using var notify = connection.CreateCommand();
                    notify.CommandText = "SELECT " + string.Join(", ", batch.Select((_, i) => $"pg_notify(@c{i}, @p{i})"));
                    for (var i = 0; i < batch.Count; i++)
                    {
                        notify.Parameters.AddWithValue($"c{i}", batch[i].Channel);
                        notify.Parameters.AddWithValue($"p{i}", $"{_origin}:{batch[i].Payload}");
                    }

                    await notify.ExecuteNonQueryAsync(stoppingToken);
                }
                catch (Exception exception) when (exception is NpgsqlException or TimeoutException or InvalidOperationException)
                {
                    logger.LogWarning("Could not signal the other nodes ({Message}); trying again in a second", exception.Message);
                    if (connection is not null)
                    {
                        await connection.DisposeAsync();
                        connection = null;
                    }

                    foreach (var key in batch)
                    {
                        Publish(key.Channel, key.Payload);
                    }

                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private async Task ListenAsync(CancellationToken stoppingToken)
    {
        var connected = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString("delivery-console-listener"));
                connection.Notification += (_, e) => Received(e.Channel, e.Payload);
                await connection.OpenAsync(stoppingToken);
                await using (var listen = connection.CreateCommand())
                {
                    listen.CommandText = string.Concat(Channels.Select(c => $"LISTEN {c};"));
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }

                if (connected)
                {
                    // Signals sent while this node was not listening are lost: everyone catches up.
                    foreach (var channel in Channels)
                    {
                        Deliver(channel, ClusterChannels.Resync);
                    }
                }

                connected = true;
                while (!stoppingToken.IsCancellationRequested)
                {
                    if (!_leader)
                    {
                        await using var tryLead = connection.CreateCommand();
                        tryLead.CommandText = $"SELECT pg_try_advisory_lock({LeaderLockKey})";
                        _leader = await tryLead.ExecuteScalarAsync(stoppingToken) is true;
                        if (_leader)
                        {
                            logger.LogInformation("This node now runs the cluster's sweeps");
                        }
                    }

                    await connection.WaitAsync(LeaderCheck, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception exception) when (exception is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
            {
                _leader = false;
                logger.LogWarning("Lost the connection that listens to the other nodes ({Message}); reconnecting", exception.Message);
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
            finally
            {
                _leader = false;
            }
        }
    }

    private void Received(string channel, string message)
    {
        var separator = message.IndexOf(':');
        if (separator < 0 || message.AsSpan(0, separator).SequenceEqual(_origin))
        {
            return;
        }

        Deliver(channel, message[(separator + 1)..]);
    }

    private void Deliver(string channel, string payload)
    {
        if (!_handlers.TryGetValue(channel, out var handlers))
        {
            return;
        }

        foreach (var handler in handlers)
        {
            try
            {
                handler(payload);
            }
            catch (Exception exception)
            {
                logger.LogWarning(exception, "A handler of {Channel} failed", channel);
            }
        }
    }
}
