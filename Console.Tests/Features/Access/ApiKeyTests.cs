using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Features.Access;

public sealed class ApiKeyTests(ConsoleAppFactory app) : IClassFixture<ConsoleAppFactory>
{
    [Fact]
    public async Task CreatedKey_IsStoredOnlyAsSha256Hash_WithVisiblePrefix()
    {
        var admin = await app.ClientAsync(Role.Admin, "hash-" + Guid.NewGuid().ToString("N")[..8]);
        var response = await admin.PostAsJsonAsync("/v1/api-keys", new { name = "CRM sync", role = "operator" });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();
        var plain = body.GetProperty("key").GetString()!;
        var id = Guid.Parse(body.GetProperty("id").GetString()!);

        Assert.StartsWith("dck_", plain);
        Assert.Equal(36, plain.Length);
        Assert.Equal(plain[..12], body.GetProperty("prefix").GetString());
        Assert.Equal("operator", body.GetProperty("role").GetString());

        await using var db = await app.DbAsync();
        var stored = await db.ApiKeys.SingleAsync(k => k.Id == id);
        Assert.Equal(ApiKeyGenerator.Hash(plain), stored.Hash);
        Assert.Equal(64, stored.Hash.Length);
        Assert.DoesNotContain(plain[12..], stored.Hash + stored.Prefix + stored.Name);

        // The raw database never holds the key in clear either (the SQLite file; every column of every key row on PostgreSQL).
        if (TestProvider.IsPostgres)
        {
            var rows = await db.Database.SqlQueryRaw<string>("SELECT string_agg(k::text, ' ') AS \"Value\" FROM api_keys k").ToListAsync();
            Assert.DoesNotContain(plain, rows.Single());
        }
        else
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            var bytes = await File.ReadAllBytesAsync(app.DatabasePath);
            Assert.DoesNotContain(plain, System.Text.Encoding.UTF8.GetString(bytes));
        }

        // Shown once: listing never includes it.
        var list = await admin.GetStringAsync("/v1/api-keys");
        Assert.DoesNotContain(plain, list);
        Assert.Contains("\"key\":null", list);
    }

    [Fact]
    public async Task Hash_IsDeterministicHexSha256()
    {
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ApiKeyGenerator.Hash("abc"));
        Assert.NotEqual(ApiKeyGenerator.NewKey(), ApiKeyGenerator.NewKey());
        await Task.CompletedTask;
    }

    [Fact]
    public async Task RevokedKey_StopsWorking_AndRevocationIsAudited()
    {
        var workspace = "revoke-" + Guid.NewGuid().ToString("N")[..8];
        var admin = await app.ClientAsync(Role.Admin, workspace);
        var created = await (await admin.PostAsJsonAsync("/v1/api-keys", new { role = "viewer" })).Content.ReadFromJsonAsync<JsonElement>();
        var viewer = app.ClientWithKey(created.GetProperty("key").GetString()!);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/v1/applications")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/v1/api-keys/{created.GetProperty("id").GetString()}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await viewer.GetAsync("/v1/applications")).StatusCode);

        await using var db = await app.DbAsync();
        var actions = await db.AuditEntries.Where(a => a.TargetId == created.GetProperty("id").GetString()).Select(a => a.Action).ToListAsync();
        Assert.Equal(["api_key.created", "api_key.revoked"], actions.Order());
    }

    [Theory]
    [InlineData("""{"role":"superuser"}""")]
    [InlineData("""{"name":"x"}""")]
    [InlineData("""{"role":"admin","name":""" + "\"" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" + "\"}")]
    [InlineData("""not json""")]
    [InlineData("""[1,2]""")]
    public async Task CreateKey_WithBadInput_Gets400_AndStoresNothing(string body)
    {
        var workspace = "bad-" + Guid.NewGuid().ToString("N")[..8];
        var admin = await app.ClientAsync(Role.Admin, workspace);
        var response = await admin.PostAsync("/v1/api-keys", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
        await Envelope.AssertErrorAsync(response, HttpStatusCode.BadRequest, EnvelopeKind.Code);
        var keys = await admin.GetFromJsonAsync<JsonElement>("/v1/api-keys");
        Assert.Equal(1, keys.GetProperty("data").GetArrayLength());
    }
}

public sealed class RateLimitedAppFactory : ConsoleAppFactory
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["RateLimit:PermitLimit"] = "3",
        ["RateLimit:WindowSeconds"] = "60",
    };
}

public sealed class RateLimitTests(RateLimitedAppFactory app) : IClassFixture<RateLimitedAppFactory>
{
    [Theory]
    [InlineData("/v1/webhooks", EnvelopeKind.Detail)]
    [InlineData("/v1/applications", EnvelopeKind.Code)]
    [InlineData("/api/v1/campaigns", EnvelopeKind.SuccessFalse)]
    public async Task FourthRequestInWindow_Gets429WithRetryAfter_PerKey(string path, EnvelopeKind kind)
    {
        var client = await app.ClientAsync(Role.Viewer, "rl-" + Guid.NewGuid().ToString("N")[..8]);
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path)).StatusCode);
        }

        var limited = await client.GetAsync(path);
        await Envelope.AssertErrorAsync(limited, HttpStatusCode.TooManyRequests, kind);
        var retryAfter = int.Parse(limited.Headers.GetValues("Retry-After").Single());
        Assert.InRange(retryAfter, 1, 60);

        // Another key has its own budget.
        var other = await app.ClientAsync(Role.Viewer, "rl-other-" + Guid.NewGuid().ToString("N")[..8]);
        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync(path)).StatusCode);
    }
}
