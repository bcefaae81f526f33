using System.Diagnostics;
using System.Runtime;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Infrastructure.Api;

namespace DeliveryConsole.Features.Health;

/// <summary>What this console process has used since it started: for operators sizing a node, and for the throughput benchmark's CPU, allocation and JIT figures (its warm-up runs until the JIT has settled).</summary>
public sealed record ProcessFigures(
    string Node,
    double UptimeSeconds,
    double ProcessorTimeMs,
    long AllocatedBytes,
    int Gen0Collections,
    int Gen1Collections,
    int Gen2Collections,
    long WorkingSetBytes,
    int Threads,
    string GcMode,
    int ProcessorCount,
    long JitCompiledMethods,
    double JitTimeMs,
    EngineFigures Engine);

/// <summary>
/// What the delivery engine has done since the process started: the writer's transactions (batches),
/// the writes in them and the batches replayed one write at a time after a failure; claim
/// statements and the deliveries they claimed; deliveries handed over by publishing without a
/// claim; record batches and the attempts in them; HTTP sends and their wall time from request
/// to answer, added up (sendMs ÷ sends is the mean round trip, which with a lane's cap bounds what
/// one endpoint can take).
/// </summary>
public sealed record EngineFigures(long WriterBatches, long WriterWrites, long WriterReplays, long Claims, long Claimed, long HandedOver, long RecordBatches, long RecordedAttempts,
    long Sends, long SendMs);

public static class SystemApi
{
    public static RouteGroupBuilder MapSystemApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapApiGroup(ApiGroups.System);
        group.MapGet("/process", Process).WithName("GetProcessFigures")
            .WithSummary("CPU time, bytes allocated, collections and memory of this console process since it started (admin)").Produces<ProcessFigures>();
        return group;
    }

    public static IResult Process(HttpContext http, Deliveries.Engine.NodeIdentity node, Data.DatabaseWriter writer, Deliveries.Engine.DeliveryLedger ledger,
        IServiceProvider services)
    {
        http.Caller().Require(Role.Admin);
        using var process = System.Diagnostics.Process.GetCurrentProcess();
        return TypedResults.Json(new ProcessFigures(
            node.LeaseOwner,
            (DateTime.Now - process.StartTime).TotalSeconds,
            process.TotalProcessorTime.TotalMilliseconds,
            GC.GetTotalAllocatedBytes(precise: false),
            GC.CollectionCount(0),
            GC.CollectionCount(1),
            GC.CollectionCount(2),
            process.WorkingSet64,
            process.Threads.Count,
            GCSettings.IsServerGC ? "server" : "workstation",
            Environment.ProcessorCount,
            JitInfo.GetCompiledMethodCount(),
            JitInfo.GetCompilationTime().TotalMilliseconds,
            Engine(writer, ledger, services.GetService<Deliveries.Engine.DeliveryDispatcher>(), services.GetService<Deliveries.Engine.DeliveryProcessor>())), ApiJson.CamelCase);
    }

    private static EngineFigures Engine(Data.DatabaseWriter writer, Deliveries.Engine.DeliveryLedger ledger, Deliveries.Engine.DeliveryDispatcher? dispatcher,
        Deliveries.Engine.DeliveryProcessor? processor)
    {
        var (sends, sendTime) = processor?.Figures ?? default;
        var (batches, writes, replays) = writer.Figures;
        var (claims, claimed, handedOver) = dispatcher?.Figures ?? default;
        var (recordBatches, recorded) = ledger.Figures;
        return new EngineFigures(batches, writes, replays, claims, claimed, handedOver, recordBatches, recorded, sends, (long)sendTime.TotalMilliseconds);
    }
}
