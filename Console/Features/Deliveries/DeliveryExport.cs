using System.Globalization;
using CsvHelper;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Infrastructure.Api;

namespace DeliveryConsole.Features.Deliveries;

/// <summary>
/// The inspector's "Export CSV": the filtered rows, streamed to the browser as they are read
/// (no buffering of a million rows). Signed-in console users only; the same filters as the page.
/// </summary>
public static class DeliveryExport
{
    public static IEndpointRouteBuilder MapDeliveryExport(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/deliveries/export.csv", ExportAsync).RequireAuthorization().ExcludeFromDescription();
        return routes;
    }

    public static async Task ExportAsync(HttpContext http, DeliveryQueries deliveries, TimeProvider clock)
    {
        var caller = Caller.FromPrincipal(http.User);
        if (caller is null)
        {
            http.Response.StatusCode = StatusCodes.Status401Unauthorized;
            return;
        }

        var query = InspectorQuery.FromQuery(http.Request.Query);
        var now = clock.GetUtcNow().UtcDateTime;
        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"deliveries-{now:yyyyMMdd-HHmmss}.csv\"";
        // A spreadsheet must not run what a customer's server answered: text that looks like a formula is escaped.
        await using var csv = CsvWriter.Create(http.Response.Body, new CsvWriterOptions { Injection = CsvInjection.Escape }, leaveOpen: true);
        csv.WriteHeader(["id", "event_id", "event_type", "channel", "status", "endpoint_scope", "endpoint_id", "target_url", "call_id", "attempts",
            "last_response_status", "last_error", "last_duration_ms", "last_attempt_at", "next_attempt_at", "created_at", "delivered_at"]);
        await foreach (var d in deliveries.StreamAsync(caller, query.ToFilter(now), query.ToSort(), http.RequestAborted))
        {
            csv.WriteField(d.Id.ToString());
            csv.WriteField(d.EventId);
            csv.WriteField(d.EventType);
            csv.WriteField(d.Channel);
            csv.WriteField(d.Status.ToWire());
            csv.WriteField(d.Scope.ToString().ToLowerInvariant());
            csv.WriteField(d.EndpointId.ToString());
            csv.WriteField(d.TargetUrl);
            csv.WriteField(d.CallId);
            csv.WriteField(d.Attempts.ToString(CultureInfo.InvariantCulture));
            csv.WriteField(d.LastResponseStatus?.ToString(CultureInfo.InvariantCulture));
            csv.WriteField(d.LastError);
            csv.WriteField(d.LastDurationMs?.ToString(CultureInfo.InvariantCulture));
            csv.WriteField(d.LastAttemptAt is { } last ? ApiJson.Format(last) : null);
            csv.WriteField(d.NextAttemptAt is { } next ? ApiJson.Format(next) : null);
            csv.WriteField(ApiJson.Format(d.CreatedAt));
            csv.WriteField(d.DeliveredAt is { } delivered ? ApiJson.Format(delivered) : null);
            await csv.EndRecordAsync(http.RequestAborted);
        }

        await csv.FlushAsync(http.RequestAborted);
    }
}
