using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Webhooks;

public sealed record ApplicationView(Guid Id, string Name, string? FinishedUrl, Guid? EndpointId, DateTime CreatedAt, DateTime UpdatedAt)
{
    public static ApplicationView From(Application a) => new(a.Id, a.Name, a.FinishedUrl, a.EndpointId, a.CreatedAt, a.UpdatedAt);
}

/// <summary>The result of a write; <see cref="SigningSecret"/> is set only when the write created the finishedUrl endpoint.</summary>
public sealed record ApplicationWriteResult(ApplicationView Application, string? SigningSecret);

/// <summary>Applications. Setting finishedUrl makes it the application's endpoint; clearing it deletes that endpoint.</summary>
public sealed class ApplicationService(IDbContextFactory<AppDbContext> dbFactory, WebhookService webhooks, TimeProvider clock)
{
    public async Task<ApplicationWriteResult> CreateAsync(Caller caller, string name, string? finishedUrl, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        name = ValidateName(name);
        finishedUrl = finishedUrl is null ? null : await webhooks.ValidateTargetAsync(finishedUrl, "finishedUrl", cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var application = new Application { Id = Guid.CreateVersion7(), WorkspaceId = caller.WorkspaceId, Name = name, CreatedAt = now, UpdatedAt = now };
        db.Applications.Add(application);
        var secret = finishedUrl is null ? null : AttachEndpoint(db, caller, application, finishedUrl, now);
        db.Record(caller, now, "application.created", "application", application.Id.ToString(), $"{name}; finishedUrl {finishedUrl ?? "none"}");
        await db.SaveChangesAsync(cancellationToken);
        return new ApplicationWriteResult(ApplicationView.From(application), secret);
    }

    public async Task<IReadOnlyList<ApplicationView>> ListAsync(Caller caller, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var items = await db.Applications.AsNoTracking()
            .Where(a => a.WorkspaceId == caller.WorkspaceId)
            .OrderByDescending(a => a.CreatedAt)
            .ToListAsync(cancellationToken);
        return items.Select(ApplicationView.From).ToList();
    }

    public async Task<ApplicationView> GetAsync(Caller caller, Guid id, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Viewer);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return ApplicationView.From(await FindAsync(db, caller, id, cancellationToken));
    }

    /// <summary>Changes the name and/or the finishedUrl. <paramref name="setFinishedUrl"/> says whether finishedUrl was given (null then clears it).</summary>
    public async Task<ApplicationWriteResult> UpdateAsync(Caller caller, Guid id, string? name, bool setFinishedUrl, string? finishedUrl, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        name = name is null ? null : ValidateName(name);
        finishedUrl = finishedUrl is null ? null : await webhooks.ValidateTargetAsync(finishedUrl, "finishedUrl", cancellationToken);
        // One live finishedUrl endpoint per application (a unique index): a racing update that
        // attached one first makes this one run again and update it.
        return await UniqueConflict.RetryAsync(() => ApplyUpdateAsync(caller, id, name, setFinishedUrl, finishedUrl, cancellationToken));
    }

    private async Task<ApplicationWriteResult> ApplyUpdateAsync(Caller caller, Guid id, string? name, bool setFinishedUrl, string? finishedUrl, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var application = await FindAsync(db, caller, id, cancellationToken);
        string? secret = null;
        if (name is not null)
        {
            application.Name = name;
        }

        if (setFinishedUrl && finishedUrl != application.FinishedUrl)
        {
            var endpoint = application.EndpointId is { } endpointId
                ? await db.WebhookEndpoints.FirstOrDefaultAsync(e => e.Id == endpointId && e.DeletedAt == null, cancellationToken)
                : null;
            if (finishedUrl is null)
            {
                if (endpoint is not null)
                {
                    await webhooks.DeleteEndpointAsync(db, caller, endpoint, cancellationToken);
                }

                application.EndpointId = null;
            }
            else if (endpoint is not null)
            {
                endpoint.Url = finishedUrl;
                endpoint.UpdatedAt = now;
            }
            else
            {
                secret = AttachEndpoint(db, caller, application, finishedUrl, now);
            }

            application.FinishedUrl = finishedUrl;
        }

        application.UpdatedAt = now;
        db.Record(caller, now, "application.updated", "application", application.Id.ToString(), $"{application.Name}; finishedUrl {application.FinishedUrl ?? "none"}");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new ApplicationWriteResult(ApplicationView.From(application), secret);
    }

    public async Task DeleteAsync(Caller caller, Guid id, CancellationToken cancellationToken = default)
    {
        caller.Require(Role.Admin);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var application = await FindAsync(db, caller, id, cancellationToken);
        if (application.EndpointId is { } endpointId
            && await db.WebhookEndpoints.FirstOrDefaultAsync(e => e.Id == endpointId && e.DeletedAt == null, cancellationToken) is { } endpoint)
        {
            await webhooks.DeleteEndpointAsync(db, caller, endpoint, cancellationToken);
        }

        db.Applications.Remove(application);
        db.Record(caller, clock.GetUtcNow().UtcDateTime, "application.deleted", "application", application.Id.ToString(), application.Name);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    private string AttachEndpoint(AppDbContext db, Caller caller, Application application, string url, DateTime now)
    {
        var secret = EndpointSecrets.NewSecret();
        var endpoint = webhooks.NewEndpoint(caller.WorkspaceId, EndpointScope.Application, url, secret, now);
        endpoint.ApplicationId = application.Id;
        db.WebhookEndpoints.Add(endpoint);
        application.EndpointId = endpoint.Id;
        application.FinishedUrl = url;
        return secret;
    }

    private static async Task<Application> FindAsync(AppDbContext db, Caller caller, Guid id, CancellationToken cancellationToken) =>
        await db.Applications.FirstOrDefaultAsync(a => a.Id == id && a.WorkspaceId == caller.WorkspaceId, cancellationToken)
        ?? throw new NotFoundException("Application not found.");

    private static string ValidateName(string name)
    {
        name = name.Trim();
        if (name.Length is 0 or > 200)
        {
            throw new ValidationException("body", "name", "name must be 1 to 200 characters", "string_length");
        }

        return name;
    }
}
