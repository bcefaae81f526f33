using System.Globalization;
using CsvHelper;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Api;

namespace DeliveryConsole.Features.Deliveries;

/// <summary>
/// The inspector's "Export CSV": the filtered rows, streamed to the browser as they are read
/// (no buffering of a million rows). Signed-in console users only; the same filters as the page.
/// The whole query is checked before the first byte: a value the page would ignore, a payload
/// search that is not one or that would read too much, is a 400 (<c>{"error", "code"}</c>) and no
/// file; the query runs and its first row is read before the headers are sent. Should the
/// database fail after that, the file ends with an ERROR row saying it is incomplete.
/// </summary>
public static class DeliveryExport
{
    public static readonly string[] Columns = ["id", "event_id", "event_type", "channel", "status", "endpoint_scope", "endpoint_id", "target_url", "call_id", "attempts",
        "last_response_status", "last_error", "last_duration_ms", "last_attempt_at", "next_attempt_at", "created_at", "delivered_at"];

    public static IEndpointRouteBuilder MapDeliveryExport(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/deliveries/export.csv", ExportAsync).RequireAuthorization().ExcludeFromDescription();
        return routes;
    }

    public static async Task ExportAsync(HttpContext http, DeliveryQueries deliveries, TimeProvider clock, ILoggerFactory loggers)
    {
        http.Response.Headers.CacheControl = "no-store";
        var caller = Caller.FromPrincipal(http.User);
        if (caller is null)
        {
            await RefuseAsync(http, new UnauthorizedException("Sign in to export deliveries."));
            return;
        }

        var query = InspectorQuery.FromQuery(http.Request.Query);
        if (query.Problems() is { Count: > 0 } problems)
        {
            await RefuseAsync(http, new ValidationException(problems));
            return;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        await using var rows = deliveries.StreamAsync(caller, query.ToFilter(now), query.ToSort(), http.RequestAborted).GetAsyncEnumerator(http.RequestAborted);
        bool any;
        try
        {
            // Every check of the filter (role, payload search bounds) and the query itself run here, before any byte is sent.
            any = await rows.MoveNextAsync();
        }
        catch (AppException exception)
        {
            await RefuseAsync(http, exception);
            return;
        }

        http.Response.ContentType = "text/csv; charset=utf-8";
        http.Response.Headers.ContentDisposition = $"attachment; filename=\"deliveries-{now:yyyyMMdd-HHmmss}.csv\"";
        // A spreadsheet must not run what a customer's server answered: text that looks like a formula is escaped.
        await using var csv = CsvWriter.Create(http.Response.Body, new CsvWriterOptions { Injection = CsvInjection.Escape }, leaveOpen: true);
        csv.WriteHeader(Columns);
        var written = 0L;
        try
        {
            while (any)
            {
                await WriteAsync(csv, rows.Current, http.RequestAborted);
                written++;
                any = await rows.MoveNextAsync();
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !http.RequestAborted.IsCancellationRequested)
        {
            // The headers are gone: the file says itself that it is not whole.
            loggers.CreateLogger(typeof(DeliveryExport)).LogError(exception, "Delivery export failed after {Rows} rows ({TraceId})", written, http.TraceIdentifier);
            csv.WriteField("ERROR");
            csv.WriteField($"The export stopped after {written:N0} rows because of an error; this file is incomplete. Export again (reference {http.TraceIdentifier}).");
            await csv.EndRecordAsync(CancellationToken.None);
        }

        await csv.FlushAsync(http.RequestAborted);
    }

    private static async Task WriteAsync(CsvWriter csv, DeliveryRow d, CancellationToken cancellationToken)
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
        await csv.EndRecordAsync(cancellationToken);
    }

    /// <summary>No file: the status and <c>{"error", "code"}</c> saying what to change.</summary>
    private static Task RefuseAsync(HttpContext http, AppException exception)
    {
        var status = exception is ValidationException ? StatusCodes.Status400BadRequest : exception.StatusCode;
        return ErrorEnvelope.Code.Error(status, $"Nothing was exported: {exception.Message}").ExecuteAsync(http);
    }
}
