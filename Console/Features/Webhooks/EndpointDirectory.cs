using System.Collections.Concurrent;
using System.Data.Common;
using System.Runtime.CompilerServices;
using DeliveryConsole.Data;
using DeliveryConsole.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace DeliveryConsole.Features.Webhooks;

/// <summary>
/// The active endpoints of each workspace, as publishing matches events against them: read once
/// and kept until an endpoint changes, instead of one query per published event. Every change to
/// an endpoint goes through EF Core (seen by <see cref="EndpointChangeInterceptor"/>, which
/// forgets the cache once the change has committed) or through the ledger's auto-disable (which
/// calls <see cref="Invalidate"/> after its commit); other nodes forget theirs when told (<see cref="IClusterSignals"/>). A read that overlaps a change is not kept:
/// each read remembers the generation it started in and stores only if nothing changed since.
/// </summary>
public sealed class EndpointDirectory
{
    private readonly IServiceProvider services;
    private readonly IClusterSignals? _cluster;

    public EndpointDirectory(IServiceProvider services, IClusterSignals? cluster = null)
    {
        this.services = services;
        _cluster = cluster;
        // Another node changed an endpoint (or signals were missed): forget what is kept here.
        cluster?.Subscribe(ClusterChannels.Endpoints, _ => Forget());
    }

    /// <summary>Resolved at first use: the context factory's own options take this directory's interceptor.</summary>
    private IDbContextFactory<AppDbContext> DbFactory => field ??= services.GetRequiredService<IDbContextFactory<AppDbContext>>();

    private readonly ConcurrentDictionary<Guid, IReadOnlyList<WebhookEndpoint>> _active = new();
    private long _generation;

    /// <summary>The workspace's endpoints that are neither deleted nor disabled. The entities are shared: read them, never change them.</summary>
    public async Task<IReadOnlyList<WebhookEndpoint>> ActiveAsync(Guid workspaceId, CancellationToken cancellationToken = default)
    {
        if (_active.TryGetValue(workspaceId, out var cached))
        {
            return cached;
        }

        var generation = Interlocked.Read(ref _generation);
        await using var db = await DbFactory.CreateDbContextAsync(cancellationToken);
        var endpoints = await db.WebhookEndpoints.AsNoTracking()
            .Where(e => e.WorkspaceId == workspaceId && e.DeletedAt == null && e.Status == EndpointStatus.Active)
            .ToListAsync(cancellationToken);
        if (Interlocked.Read(ref _generation) == generation)
        {
            _active[workspaceId] = endpoints;
            if (Interlocked.Read(ref _generation) != generation)
            {
                // A change committed while storing: do not keep what may predate it.
                _active.TryRemove(workspaceId, out _);
            }
        }

        return endpoints;
    }

    /// <summary>Forgets every workspace's endpoints here and on the other nodes (an endpoint changed and committed).</summary>
    public void Invalidate()
    {
        Forget();
        _cluster?.Publish(ClusterChannels.Endpoints);
    }

    private void Forget()
    {
        Interlocked.Increment(ref _generation);
        _active.Clear();
    }
}

/// <summary>
/// Tells <see cref="EndpointDirectory"/> when a saved change to an endpoint has committed: at the
/// end of the save when no transaction is open, else when the context's transaction commits.
/// </summary>
public sealed class EndpointChangeInterceptor(EndpointDirectory directory) : ISaveChangesInterceptor, IDbTransactionInterceptor
{
    private static readonly object Marker = new();
    private readonly ConditionalWeakTable<DbContext, object> _changed = new();

    public InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Mark(eventData.Context);
        return result;
    }

    public ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Mark(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        SettleIfCommitted(eventData.Context);
        return result;
    }

    public ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        SettleIfCommitted(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public void SaveChangesFailed(DbContextErrorEventData eventData) => SettleIfCommitted(eventData.Context);

    public Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        SettleIfCommitted(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Settle(eventData.Context);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Settle(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Forget(eventData.Context);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    private void Mark(DbContext? context)
    {
        if (context is not null && context.ChangeTracker.Entries<WebhookEndpoint>().Any(e => e.State is EntityState.Added or EntityState.Modified or EntityState.Deleted))
        {
            _changed.AddOrUpdate(context, Marker);
        }
    }

    private void SettleIfCommitted(DbContext? context)
    {
        if (context is not null && context.Database.CurrentTransaction is null)
        {
            Settle(context);
        }
    }

    private void Settle(DbContext? context)
    {
        if (context is not null && _changed.Remove(context))
        {
            directory.Invalidate();
        }
    }

    private void Forget(DbContext? context)
    {
        if (context is not null)
        {
            _changed.Remove(context);
        }
    }
}
