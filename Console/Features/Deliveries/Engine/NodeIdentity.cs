using DeliveryConsole.Data;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Deliveries.Engine;

/// <summary>
/// Who holds a lease: a node id kept in the data folder (<c>node-id</c>) across restarts, plus an
/// id of this run. The file is held locked while the process runs, so a node restarted on the same
/// folder knows that leases of its own earlier runs belong to a process that is gone and takes them
/// back at once; a second process on the same folder (tests, a misconfiguration) gets an id of its
/// own and takes back nothing.
/// </summary>
public sealed class NodeIdentity : IDisposable
{
    private readonly FileStream? _lock;

    public NodeIdentity(IOptions<DatabaseOptions> database)
    {
        var path = Path.Combine(database.Value.DataFolder, "node-id");
        try
        {
            Directory.CreateDirectory(database.Value.DataFolder);
            _lock = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            using var reader = new StreamReader(_lock, leaveOpen: true);
            var stored = reader.ReadToEnd().Trim();
            if (stored.Length is < 8 or > 24 || !stored.All(char.IsAsciiLetterOrDigit))
            {
                stored = Guid.NewGuid().ToString("N")[..12];
                _lock.SetLength(0);
                using var writer = new StreamWriter(_lock, leaveOpen: true);
                writer.Write(stored);
            }

            Id = stored;
            OwnsEarlierRuns = true;
        }
        catch (IOException)
        {
            // Another live process holds this folder's identity: run under an id of our own.
            _lock?.Dispose();
            _lock = null;
            Id = Guid.NewGuid().ToString("N")[..12];
        }
    }

    /// <summary>The node, stable across restarts on the same data folder.</summary>
    public string Id { get; }

    /// <summary>This run of the node.</summary>
    public string RunId { get; } = Guid.NewGuid().ToString("N")[..8];

    /// <summary>True when this process holds the folder's identity, so leases of its earlier runs are orphans.</summary>
    public bool OwnsEarlierRuns { get; }

    /// <summary>The lease owner written on rows this run claims.</summary>
    public string LeaseOwner => $"{Id}:{RunId}";

    /// <summary>The prefix of lease owners of every run of this node.</summary>
    public string NodePrefix => $"{Id}:";

    public void Dispose() => _lock?.Dispose();
}
