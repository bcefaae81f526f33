using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Webhooks;

public sealed record CampaignView(Guid Id, string Name, string Status, DateTime CreatedAt)
{
    public static CampaignView From(Campaign c) => new(c.Id, c.Name, c.Status, c.CreatedAt);
}

public sealed class CampaignService(IDbContextFactory<AppDbContext> dbFactory, TimeProvider clock)
{
    public async Task<CampaignView> CreateAsync(Caller caller, string name, string? status, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        name = name.Trim();
        if (name.Length is 0 or > 200)
        {
            throw new ValidationException("body", "name", "name must be 1 to 200 characters", "string_length");
        }

        status = status?.Trim().ToLowerInvariant() ?? "draft";
        if (!Campaign.Statuses.Contains(status))
        {
            throw new ValidationException("body", "status", $"status must be one of {string.Join(", ", Campaign.Statuses)}", "enum");
        }

        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var campaign = new Campaign { Id = Guid.CreateVersion7(), WorkspaceId = caller.WorkspaceId, Name = name, Status = status, CreatedAt = now, UpdatedAt = now };
        db.Campaigns.Add(campaign);
        db.Record(caller, now, "campaign.created", "campaign", campaign.Id.ToString(), name);
        await db.SaveChangesAsync(cancellationToken);
        return CampaignView.From(campaign);
    }

    public async Task<IReadOnlyList<CampaignView>> ListAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var items = await db.Campaigns.AsNoTracking().Where(c => c.WorkspaceId == caller.WorkspaceId)
            .OrderByDescending(c => c.CreatedAt).ToListAsync(cancellationToken);
        return items.Select(CampaignView.From).ToList();
    }

    public async Task<CampaignView> GetAsync(Caller caller, Guid id, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var campaign = await db.Campaigns.AsNoTracking().FirstOrDefaultAsync(c => c.Id == id && c.WorkspaceId == caller.WorkspaceId, cancellationToken)
            ?? throw new NotFoundException("Campaign not found.");
        return CampaignView.From(campaign);
    }
}
