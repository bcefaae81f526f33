using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Webhooks;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Deliveries;

/// <summary>
/// Failed and retrying deliveries of one endpoint with the same last answer (an HTTP status, or no
/// answer and the same kind of error): what a support engineer fixes once, then replays.
/// </summary>
public sealed record FailureCluster(
    Guid EndpointId,
    string EndpointName,
    string EndpointUrl,
    string Class,
    int? Status,
    string? SampleError,
    long Failed,
    long Retrying,
    DateTime Since,
    DateTime LastAt,
    string Hint)
{
    public long Total => Failed + Retrying;

    public string Host => Uri.TryCreate(EndpointUrl, UriKind.Absolute, out var uri) ? uri.Host : EndpointUrl;

    /// <summary>The inspector's query for exactly these deliveries (their answer on their endpoint, in the window).</summary>
    public string InspectorQuery(DateTime from) =>
        $"endpoint={EndpointId}&answer={(Status is { } s ? s.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none")}&range=custom&from={Uri.EscapeDataString(Deliveries.InspectorQuery.FormatInstant(from))}";

    /// <summary>The failed ones, as the replay takes them.</summary>
    public DeliveryFilter ReplayFilter(DateTime from) => new()
    {
        EndpointId = EndpointId,
        Status = DeliveryStatus.Failed,
        LastResponseStatus = Status,
        NoAnswer = Status is null ? true : null,
        From = from,
    };
}

/// <summary>
/// Groups the workspace's failed and retrying deliveries of a recent window by endpoint and last
/// answer, largest first. Two reads on the (workspace, status, created) index bounded by the window,
/// grouped by the database; the error texts are classed here (DNS, TLS, timeout, refused…).
/// </summary>
public sealed class FailureClusterService(IDbContextFactory<AppDbContext> dbFactory, EndpointService endpoints, TimeProvider clock)
{
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromHours(24);

    public async Task<(IReadOnlyList<FailureCluster> Clusters, DateTime Since)> ListAsync(Caller caller, TimeSpan? window = null, Guid? endpointId = null, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        var since = clock.GetUtcNow().UtcDateTime - (window ?? DefaultWindow);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = db.Deliveries.AsNoTracking()
            .Where(d => d.WorkspaceId == caller.WorkspaceId && d.CreatedAt >= since
                && (d.Status == DeliveryStatus.Failed || (d.Status == DeliveryStatus.Pending && d.Attempts > 0 && (d.LastResponseStatus != null || d.LastError != null))));
        if (endpointId is { } only)
        {
            rows = rows.Where(d => d.EndpointId == only);
        }

        var groups = await rows
            .GroupBy(d => new { d.EndpointId, d.LastResponseStatus, d.LastError, d.Status })
            .Select(g => new { g.Key.EndpointId, g.Key.LastResponseStatus, g.Key.LastError, g.Key.Status, Count = g.LongCount(), First = g.Min(d => d.CreatedAt), Last = g.Max(d => d.LastAttemptAt ?? d.CreatedAt) })
            .Take(2000)
            .ToListAsync(cancellationToken);
        if (groups.Count == 0)
        {
            return ([], since);
        }

        var names = (await endpoints.NamedAsync(caller, cancellationToken)).ToDictionary(n => n.Endpoint.Id, n => (n.OwnerName, n.Endpoint.Url));
        var clusters = groups
            .GroupBy(g => (g.EndpointId, g.LastResponseStatus, Class: ClassOf(g.LastResponseStatus, g.LastError)))
            .Select(c =>
            {
                var (name, url) = names.TryGetValue(c.Key.EndpointId, out var n) ? n : ("Deleted endpoint", "");
                var sample = c.OrderByDescending(g => g.Count).First().LastError;
                return new FailureCluster(c.Key.EndpointId, name, url, c.Key.Class, c.Key.LastResponseStatus, sample,
                    c.Where(g => g.Status == DeliveryStatus.Failed).Sum(g => g.Count), c.Where(g => g.Status == DeliveryStatus.Pending).Sum(g => g.Count),
                    c.Min(g => g.First), c.Max(g => g.Last), HintFor(c.Key.LastResponseStatus, c.Key.Class));
            })
            .OrderByDescending(c => c.Total)
            .ThenBy(c => c.EndpointName, StringComparer.OrdinalIgnoreCase)
            .ToList();
        return (clusters, since);
    }

    /// <summary>What went wrong, in a word or two.</summary>
    public static string ClassOf(int? status, string? error) => status switch
    {
        { } s => $"HTTP {s}",
        null when error is null => "no answer",
        _ when error.Contains("timed out", StringComparison.OrdinalIgnoreCase) || error.Contains("timeout", StringComparison.OrdinalIgnoreCase) => "Timeout",
        _ when error.Contains("refused", StringComparison.OrdinalIgnoreCase) => "Connection refused",
        _ when error.Contains("DNS", StringComparison.Ordinal) || error.Contains("resolve", StringComparison.OrdinalIgnoreCase) || error.Contains("name or service", StringComparison.OrdinalIgnoreCase) => "DNS lookup failed",
        _ when error.Contains("TLS", StringComparison.Ordinal) || error.Contains("SSL", StringComparison.Ordinal) || error.Contains("certificate", StringComparison.OrdinalIgnoreCase) => "TLS failed",
        _ when error.Contains("blocked", StringComparison.OrdinalIgnoreCase) || error.Contains("private", StringComparison.OrdinalIgnoreCase) => "Blocked by the network guard",
        _ when error.Contains("reset", StringComparison.OrdinalIgnoreCase) => "Connection reset",
        _ => "Connection failed",
    };

    /// <summary>A plain-words hint per class: what it usually means and what to do.</summary>
    public static string HintFor(int? status, string @class) => status switch
    {
        401 or 403 => "The receiver refuses the request: usually its signature check (a wrong or rotated secret) or its own authentication.",
        404 => "The path does not exist on the receiver: check the endpoint URL.",
        410 => "The receiver says the endpoint is gone: it is disabled until someone enables it.",
        413 => "The receiver finds the payload too large.",
        429 => "The receiver is rate limiting: deliveries slow down and retry on their own.",
        >= 400 and < 500 => "The receiver rejects the request as invalid: its response body (in the attempt) says why.",
        >= 500 => "The receiver failed while handling it: its own error. Its response body and logs say why; replay once it is fixed.",
        { } => "An unexpected answer: see the attempt.",
        null => @class switch
        {
            "DNS lookup failed" => "The host name does not resolve: check the URL's spelling, or the receiver's DNS records.",
            "TLS failed" => "The TLS handshake failed: an expired or self-signed certificate, or one for another name.",
            "Timeout" => "No answer in time: the receiver is slow or down. It should answer 2xx at once and do its work afterwards.",
            "Connection refused" => "Nothing listens there: the receiver is down, or the port is wrong.",
            "Connection reset" => "The connection was cut mid-request: a proxy or the receiver dropped it.",
            "Blocked by the network guard" => "The URL resolves to a private, loopback or link-local address, which deliveries may not reach: use a public address.",
            _ => "The connection failed before an answer: see the attempt's error.",
        },
    };
}
