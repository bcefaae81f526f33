using System.Net;
using System.Text.Json;

namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>The three error shapes of API-CONTRACT.md, asserted exactly.</summary>
public enum EnvelopeKind
{
    Detail,
    Code,
    SuccessFalse,
}

public static class Envelope
{
    public static async Task<JsonElement> AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, EnvelopeKind kind)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        Assert.StartsWith("application/json", response.Content.Headers.ContentType?.ToString());
        var root = JsonDocument.Parse(text).RootElement;
        var code = CodeFor(status);
        switch (kind)
        {
            case EnvelopeKind.Detail:
                Assert.Equal(["detail"], Names(root));
                if (status == HttpStatusCode.UnprocessableEntity)
                {
                    var first = root.GetProperty("detail")[0];
                    Assert.Equal(["loc", "msg", "type"], Names(first));
                }
                else
                {
                    Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("detail").GetString()));
                }

                break;
            case EnvelopeKind.Code:
                Assert.Equal(["code", "error"], Names(root));
                Assert.Equal(code, root.GetProperty("code").GetString());
                Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("error").GetString()));
                break;
            case EnvelopeKind.SuccessFalse:
                Assert.Equal(["error", "success"], Names(root));
                Assert.False(root.GetProperty("success").GetBoolean());
                Assert.Equal(["code", "message"], Names(root.GetProperty("error")));
                if (status != HttpStatusCode.BadRequest)
                {
                    Assert.Equal(code, root.GetProperty("error").GetProperty("code").GetString());
                }

                break;
        }

        Assert.DoesNotContain("   at ", text);
        return root;
    }

    private static string[] Names(JsonElement element) => element.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();

    public static string CodeFor(HttpStatusCode status) => (int)status switch
    {
        400 => "BAD_REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        409 => "CONFLICT",
        413 => "PAYLOAD_TOO_LARGE",
        414 => "URI_TOO_LONG",
        415 => "UNSUPPORTED_MEDIA_TYPE",
        422 => "UNPROCESSABLE_ENTITY",
        429 => "TOO_MANY_REQUESTS",
        431 => "HEADERS_TOO_LARGE",
        >= 400 and < 500 => "BAD_REQUEST",
        _ => "INTERNAL_ERROR",
    };
}
