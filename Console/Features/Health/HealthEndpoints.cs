using DeliveryConsole.Data;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Features.Health;

public static class HealthEndpoints
{
    /// <summary>GET /healthz: 200 when the database answers a query, 503 otherwise. No authentication.</summary>
    public static IEndpointRouteBuilder MapHealth(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/healthz", async (IDbContextFactory<AppDbContext> dbFactory, CancellationToken cancellationToken) =>
        {
            try
            {
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                await db.Workspaces.AnyAsync(cancellationToken);
                return Results.Json(new { status = "ok", database = "ok" });
            }
            catch (Exception exception) when (exception is not OperationCanceledException)
            {
                return Results.Json(new { status = "unavailable", database = exception.GetType().Name }, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        }).WithTags("Health").AllowAnonymous();
        return routes;
    }
}
