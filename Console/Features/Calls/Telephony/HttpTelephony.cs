using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Features.Calls.Telephony;

/// <summary>
/// A telephony provider over HTTP: POST {BaseUrl}/calls (dial), /calls/{id}/end and
/// /calls/{id}/join with a bearer token, through the SSRF-guarded client. The provider reports
/// status changes to POST /v1/telephony/events.
/// </summary>
public sealed class HttpTelephony(IHttpClientFactory clients, IOptionsMonitor<TelephonyOptions> options) : ITelephonyProvider
{
    public const string ClientName = "telephony";

    public async Task<DialResult> DialAsync(Call call, CancellationToken cancellationToken)
    {
        using var answer = await SendAsync("calls", new { call_id = call.Id, to_number = call.ToNumber, from_number = call.FromNumber }, cancellationToken);
        var id = answer.RootElement.TryGetProperty("provider_call_id", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
        return new DialResult(id ?? throw new TelephonyException("The provider accepted the call without a provider_call_id."));
    }

    public async Task EndAsync(Call call, CancellationToken cancellationToken)
    {
        using var _ = await SendAsync($"calls/{Uri.EscapeDataString(call.ProviderCallId ?? call.Id)}/end", new { call_id = call.Id }, cancellationToken);
    }

    public async Task<JoinResult> JoinAsync(Call call, CancellationToken cancellationToken)
    {
        using var answer = await SendAsync($"calls/{Uri.EscapeDataString(call.ProviderCallId ?? call.Id)}/join", new { call_id = call.Id }, cancellationToken);
        var root = answer.RootElement;
        if (root.TryGetProperty("join_url", out var url) && url.ValueKind == JsonValueKind.String
            && root.TryGetProperty("expires_at", out var expires) && expires.TryGetDateTime(out var expiresAt))
        {
            return new JoinResult(url.GetString()!, expiresAt.ToUniversalTime());
        }

        throw new TelephonyException("The provider's join answer lacks join_url or expires_at.");
    }

    private async Task<JsonDocument> SendAsync(string path, object body, CancellationToken cancellationToken)
    {
        var settings = options.CurrentValue;
        var client = clients.CreateClient(ClientName);
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(new Uri(settings.BaseUrl!.TrimEnd('/') + "/"), path)) { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", settings.Token ?? "");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        try
        {
            using var response = await client.SendAsync(request, timeout.Token);
            var text = await response.Content.ReadAsStringAsync(timeout.Token);
            if (!response.IsSuccessStatusCode)
            {
                throw new TelephonyException($"The provider answered HTTP {(int)response.StatusCode}: {(text.Length > 300 ? text[..300] : text)}");
            }

            try
            {
                return JsonDocument.Parse(text.Length == 0 ? "{}" : text);
            }
            catch (JsonException)
            {
                throw new TelephonyException("The provider's answer is not JSON.");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TelephonyException($"The provider did not answer within {settings.Timeout.TotalSeconds:0.#} s.");
        }
        catch (HttpRequestException exception)
        {
            throw new TelephonyException($"The provider could not be reached: {exception.Message}");
        }
    }
}
