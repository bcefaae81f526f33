using DeliveryConsole.Features.Calls;
using DeliveryConsole.Features.Calls.Telephony;

namespace DeliveryConsole.Tests.Infrastructure;

/// <summary>A provider that refuses every call, for component tests that never place one.</summary>
public sealed class NoTelephony : ITelephonyProvider
{
    public Task<DialResult> DialAsync(Call call, CancellationToken cancellationToken) => throw new TelephonyException("no provider in this test");

    public Task EndAsync(Call call, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task<JoinResult> JoinAsync(Call call, CancellationToken cancellationToken) => throw new TelephonyException("no provider in this test");
}
