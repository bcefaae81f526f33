using DeliveryConsole.Features.Deliveries;
using Microsoft.EntityFrameworkCore;

namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>Polls a delivery row until a condition holds or the time is up; returns the last row read.</summary>
public static class DeliveryWaits
{
    public static async Task<Delivery> WaitForDeliveryAsync(this ConsoleAppFactory app, Guid deliveryId, Func<Delivery, bool> done, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            await using var db = await app.DbAsync();
            var delivery = await db.Deliveries.AsNoTracking().SingleAsync(d => d.Id == deliveryId);
            if (done(delivery) || DateTime.UtcNow > deadline)
            {
                return delivery;
            }

            await Task.Delay(50);
        }
    }
}
