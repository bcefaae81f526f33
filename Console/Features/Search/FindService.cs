using System.Text.RegularExpressions;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Workspaces;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Search;

/// <summary>One thing found: what it is, where it lives, and the console path that opens it.</summary>
public sealed record FindMatch(string Kind, string Id, string Title, string? Detail, WorkspaceSummary Workspace, string Path)
{
    /// <summary>The console URL of the match, in its workspace: <c>/w/acme/deliveries/…</c>.</summary>
    public string Href => WorkspaceRouting.PathIn(Workspace.Slug, Path);
}

/// <summary>What the search understood the text to be, and what it found.</summary>
public sealed record FindResult(string Understood, IReadOnlyList<FindMatch> Matches);

/// <summary>
/// "Find anything": a delivery id, event id (<c>evt_…</c>), call id (<c>call_…</c>), callback id
/// (<c>cb_…</c>), endpoint URL or host, or phone number, looked up in every workspace the user may
/// see. Each kind is one indexed lookup (primary keys, the event-id, phone-number and endpoint-URL
/// indexes, and per-workspace seeks on the delivery host index), so the cost does not grow with the
/// number of deliveries. A match in a workspace the user may not see is dropped before anything is
/// returned: the answer is the same as when nothing exists.
/// </summary>
public sealed partial class FindService(IDbContextFactory<AppDbContext> dbFactory, WorkspaceAccess access)
{
    public const int MaxMatches = 25;

    public async Task<FindResult> FindAsync(string userId, string? text, CancellationToken cancellationToken = default)
    {
        var query = (text ?? "").Trim();
        if (query.Length is 0 or > 2048)
        {
            return new FindResult(query.Length == 0 ? "nothing" : "text too long", []);
        }

        var visible = await access.VisibleIdsAsync(userId, cancellationToken);
        if (visible is { Count: 0 })
        {
            return new FindResult(KindOf(query), []);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var found = new List<(string Kind, string Id, string Title, string? Detail, Guid Workspace, string Path)>();
        var kind = KindOf(query);
        switch (kind)
        {
            case "delivery or endpoint id":
                var id = Guid.Parse(query);
                found.AddRange((await db.Deliveries.AsNoTracking().Where(d => d.Id == id)
                        .Select(d => new { d.Id, d.EventType, d.TargetHost, d.Status, d.WorkspaceId }).ToListAsync(cancellationToken))
                    .Select(d => ("delivery", d.Id.ToString(), $"Delivery · {d.EventType}", (string?)$"{d.Status.ToWire()} · {d.TargetHost}", d.WorkspaceId, $"deliveries/{d.Id}")));
                found.AddRange((await db.WebhookEndpoints.AsNoTracking().Where(e => e.Id == id && e.DeletedAt == null)
                        .Select(e => new { e.Id, e.Url, e.WorkspaceId }).ToListAsync(cancellationToken))
                    .Select(e => ("endpoint", e.Id.ToString(), $"Endpoint · {e.Url}", (string?)"its deliveries", e.WorkspaceId, $"deliveries?endpoint={e.Id}")));
                break;
            case "event id":
                found.AddRange((await db.Events.AsNoTracking().Where(e => e.Id == query)
                        .Select(e => new { e.Id, e.Type, e.WorkspaceId }).ToListAsync(cancellationToken))
                    .Select(e => ("event", e.Id, $"Event · {e.Type}", (string?)"its deliveries", e.WorkspaceId, $"deliveries?q={Uri.EscapeDataString(e.Id)}")));
                break;
            case "call id":
                found.AddRange((await db.Calls.AsNoTracking().Where(c => c.Id == query)
                        .Select(c => new { c.Id, c.Status, c.ToNumber, c.WorkspaceId }).ToListAsync(cancellationToken))
                    .Select(c => ("call", c.Id, $"Call · {c.ToNumber}", (string?)c.Status, c.WorkspaceId, $"calls/{Uri.EscapeDataString(c.Id)}")));
                break;
            case "callback id":
                found.AddRange((await db.Callbacks.AsNoTracking().Where(c => c.Id == query)
                        .Select(c => new { c.Id, c.Status, c.ToNumber, c.WorkspaceId }).ToListAsync(cancellationToken))
                    .Select(c => ("callback", c.Id, $"Callback · {c.ToNumber}", (string?)c.Status, c.WorkspaceId, $"callbacks?id={Uri.EscapeDataString(c.Id)}")));
                break;
            case "phone number":
                var number = Digits().Replace(query, "");
                number = query.StartsWith('+') ? "+" + number : number;
                var candidates = number.StartsWith('+') ? new[] { number } : new[] { number, "+" + number };
                found.AddRange((await db.Calls.AsNoTracking().Where(c => candidates.Contains(c.ToNumber!))
                        .GroupBy(c => new { c.WorkspaceId, c.ToNumber }).Select(g => new { g.Key.WorkspaceId, g.Key.ToNumber, Count = g.Count() })
                        .ToListAsync(cancellationToken))
                    .Select(c => ("calls", c.ToNumber!, $"Calls to {c.ToNumber}", (string?)$"{c.Count} call{(c.Count == 1 ? "" : "s")}", c.WorkspaceId, $"calls?q={Uri.EscapeDataString(c.ToNumber!)}")));
                found.AddRange((await db.Callbacks.AsNoTracking().Where(c => candidates.Contains(c.ToNumber))
                        .GroupBy(c => new { c.WorkspaceId, c.ToNumber }).Select(g => new { g.Key.WorkspaceId, g.Key.ToNumber, Count = g.Count() })
                        .ToListAsync(cancellationToken))
                    .Select(c => ("callbacks", c.ToNumber, $"Callbacks to {c.ToNumber}", (string?)$"{c.Count} callback{(c.Count == 1 ? "" : "s")}", c.WorkspaceId, $"callbacks?number={Uri.EscapeDataString(c.ToNumber)}")));
                break;
            case "endpoint URL":
                found.AddRange((await db.WebhookEndpoints.AsNoTracking().Where(e => e.Url == query && e.DeletedAt == null)
                        .Select(e => new { e.Id, e.Url, e.WorkspaceId }).ToListAsync(cancellationToken))
                    .Select(e => ("endpoint", e.Id.ToString(), $"Endpoint · {e.Url}", (string?)"its deliveries", e.WorkspaceId, $"deliveries?endpoint={e.Id}")));
                if (found.Count == 0 && Uri.TryCreate(query, UriKind.Absolute, out var url))
                {
                    found.AddRange(await ByHostAsync(db, url.Host.ToLowerInvariant(), cancellationToken));
                }

                break;
            case "host":
                found.AddRange(await ByHostAsync(db, query.ToLowerInvariant(), cancellationToken));
                break;
        }

        var names = new Dictionary<Guid, WorkspaceSummary?>();
        var matches = new List<FindMatch>();
        foreach (var match in found)
        {
            if (visible is not null && !visible.Contains(match.Workspace))
            {
                continue;
            }

            if (!names.TryGetValue(match.Workspace, out var workspace))
            {
                workspace = (await access.GrantAsync(userId, match.Workspace, cancellationToken))?.Workspace;
                names[match.Workspace] = workspace;
            }

            if (workspace is not null && matches.Count < MaxMatches)
            {
                matches.Add(new FindMatch(match.Kind, match.Id, match.Title, match.Detail, workspace, match.Path));
            }
        }

        return new FindResult(kind, matches.OrderBy(m => m.Workspace.Name, StringComparer.OrdinalIgnoreCase).ThenBy(m => m.Kind, StringComparer.Ordinal).ToList());
    }

    /// <summary>What the text looks like; decides the one lookup made.</summary>
    public static string KindOf(string text)
    {
        if (Guid.TryParse(text, out _))
        {
            return "delivery or endpoint id";
        }

        if (text.StartsWith("evt_", StringComparison.Ordinal))
        {
            return "event id";
        }

        if (text.StartsWith("call_", StringComparison.Ordinal))
        {
            return "call id";
        }

        if (text.StartsWith("cb_", StringComparison.Ordinal))
        {
            return "callback id";
        }

        if (text.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return "endpoint URL";
        }

        if (PhoneNumber().IsMatch(text))
        {
            return "phone number";
        }

        return HostName().IsMatch(text) ? "host" : "not an id, URL, host or phone number";
    }

    /// <summary>
    /// Endpoints whose URL is on the host (two prefix ranges on the URL index: http and https), and
    /// the workspaces whose deliveries went to it (one seek per workspace on the host index, so a host
    /// with a million deliveries costs as much as one with ten).
    /// </summary>
    private static async Task<List<(string, string, string, string?, Guid, string)>> ByHostAsync(AppDbContext db, string host, CancellationToken cancellationToken)
    {
        var results = new List<(string, string, string, string?, Guid, string)>();
        foreach (var scheme in new[] { "https://", "http://" })
        {
            var from = scheme + host;
            var to = from + "\uffff";
            var endpoints = await db.WebhookEndpoints.AsNoTracking()
                .Where(e => string.Compare(e.Url, from) >= 0 && string.Compare(e.Url, to) < 0 && e.DeletedAt == null)
                .Select(e => new { e.Id, e.Url, e.WorkspaceId })
                .Take(100)
                .ToListAsync(cancellationToken);
            results.AddRange(endpoints
                .Where(e => Uri.TryCreate(e.Url, UriKind.Absolute, out var u) && string.Equals(u.Host, host, StringComparison.OrdinalIgnoreCase))
                .Select(e => ("endpoint", e.Id.ToString(), $"Endpoint · {e.Url}", (string?)"its deliveries", e.WorkspaceId, $"deliveries?endpoint={e.Id}")));
        }

        // Distinct workspaces by skipping through the (host, workspace, created) index in one
        // statement: each step is the MIN workspace past the last one found (a seek, not a scan).
        var workspaces = await db.Database.SqlQuery<string>($"""
            WITH RECURSIVE ws(id) AS (
                SELECT MIN("WorkspaceId") FROM deliveries WHERE "TargetHost" = {host}
                UNION ALL
                SELECT (SELECT MIN("WorkspaceId") FROM deliveries WHERE "TargetHost" = {host} AND "WorkspaceId" > ws.id) FROM ws WHERE ws.id IS NOT NULL)
            SELECT id AS "Value" FROM ws WHERE id IS NOT NULL LIMIT 200
            """).ToListAsync(cancellationToken);
        foreach (var text in workspaces)
        {
            if (Guid.TryParse(text, out var workspace) && !results.Any(r => r.Item5 == workspace))
            {
                results.Add(("host", host, $"Deliveries to {host}", "every delivery to this host", workspace, $"deliveries?q={Uri.EscapeDataString(host)}"));
            }
        }

        return results;
    }

    [GeneratedRegex(@"^\+?[0-9][0-9 ().-]{5,20}$")]
    private static partial Regex PhoneNumber();

    [GeneratedRegex(@"[^0-9]")]
    private static partial Regex Digits();

    [GeneratedRegex(@"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+(:[0-9]+)?$")]
    private static partial Regex HostName();
}
