using System.Net.Http.Json;
using System.Text.Json;

namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>Polls a resource of the API until its <c>status</c> is the one expected or the time is up, then asserts it.</summary>
public static class ApiWaits
{
    public static async Task<JsonElement> WaitForStatusAsync(this HttpClient client, string url, string status, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var resource = await client.GetFromJsonAsync<JsonElement>(url);
            if (resource.GetProperty("status").GetString() == status || DateTime.UtcNow > deadline)
            {
                Assert.Equal(status, resource.GetProperty("status").GetString());
                return resource;
            }

            await Task.Delay(100);
        }
    }
}
