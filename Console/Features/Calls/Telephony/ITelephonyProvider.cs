namespace DeliveryConsole.Features.Calls.Telephony;

/// <summary>The provider accepted the call; its id for it.</summary>
public sealed record DialResult(string ProviderCallId);

public sealed record JoinResult(string JoinUrl, DateTime ExpiresAt);

/// <summary>The provider refused or could not be reached; the message says why (it becomes a callback's failure_cause).</summary>
public sealed class TelephonyException(string message) : Exception(message);

/// <summary>
/// Places, ends and joins calls. Status changes come back asynchronously, through
/// <see cref="CallLifecycle"/> (the simulator calls it; the Http provider POSTs /v1/telephony/events).
/// </summary>
public interface ITelephonyProvider
{
    Task<DialResult> DialAsync(Call call, CancellationToken cancellationToken);

    Task EndAsync(Call call, CancellationToken cancellationToken);

    Task<JoinResult> JoinAsync(Call call, CancellationToken cancellationToken);
}
