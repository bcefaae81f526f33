using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Api;
using Microsoft.AspNetCore.Http;

namespace DeliveryConsole.Tests.Infrastructure;

public sealed class BodyBudgetTests
{
    [Fact]
    public async Task Small_bodies_never_wait_even_when_the_budget_is_taken()
    {
        using var budget = new BodyBudget();
        using var held = await budget.EnterAsync(BodyBudget.Capacity, CancellationToken.None);

        Assert.NotNull(held);
        Assert.Null(await budget.EnterAsync(BodyBudget.Threshold - 1, CancellationToken.None));
    }

    [Fact]
    public async Task A_large_body_waits_until_the_one_ahead_of_it_is_done_then_goes_in_arrival_order()
    {
        using var budget = new BodyBudget();
        var first = await budget.EnterAsync(BodyBudget.Capacity / 2, CancellationToken.None);
        var second = await budget.EnterAsync(BodyBudget.Capacity / 2, CancellationToken.None);
        var third = budget.EnterAsync(BodyBudget.Capacity, CancellationToken.None).AsTask();
        var fourth = budget.EnterAsync(BodyBudget.Threshold, CancellationToken.None).AsTask();

        await Task.Delay(100);
        Assert.False(third.IsCompleted);
        first!.Dispose();
        await Task.Delay(100);
        Assert.False(third.IsCompleted);
        Assert.False(fourth.IsCompleted);

        second!.Dispose();
        (await third.WaitAsync(TimeSpan.FromSeconds(5)))!.Dispose();
        (await fourth.WaitAsync(TimeSpan.FromSeconds(5)))!.Dispose();
    }

    [Fact]
    public async Task Past_the_queue_a_large_body_is_refused_as_busy_and_a_cancelled_wait_gives_its_place_back()
    {
        using var budget = new BodyBudget();
        using var held = await budget.EnterAsync(BodyBudget.Capacity, CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var waiting = Enumerable.Range(0, BodyBudget.QueueCapacity / BodyBudget.Capacity)
            .Select(i => budget.EnterAsync(BodyBudget.Capacity, i == 0 ? cancel.Token : CancellationToken.None).AsTask()).ToList();

        var busy = await Assert.ThrowsAsync<ServiceBusyException>(async () => await budget.EnterAsync(BodyBudget.Capacity, CancellationToken.None));
        Assert.Equal(StatusCodes.Status503ServiceUnavailable, busy.StatusCode);
        Assert.Contains("nothing was stored", busy.Message);

        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting[0]);
        var next = budget.EnterAsync(BodyBudget.Capacity, CancellationToken.None).AsTask();
        Assert.False(next.IsCompleted);
        held!.Dispose();
        foreach (var turn in waiting.Skip(1).Append(next))
        {
            (await turn.WaitAsync(TimeSpan.FromSeconds(5)))!.Dispose();
        }
    }
}
