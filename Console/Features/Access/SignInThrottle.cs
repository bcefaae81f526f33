using System.Collections.Concurrent;
using System.Net;

namespace DeliveryConsole.Features.Access;

/// <summary>
/// Slows password guessing without a lockout that a stranger could trigger: failures are counted
/// per client address and per account from each address (the email as typed, so an unknown email
/// behaves exactly like a known one). Past a few free failures each further one doubles the wait
/// before the next attempt is even checked, up to 15 minutes; a success clears the account's count
/// for that address, and counts are forgotten an hour after the last failure. The right password
/// from another address is never slowed by a stranger's failures. Per process: nodes of a
/// scale-out each keep their own counts.
/// </summary>
public sealed class SignInThrottle(TimeProvider clock)
{
    /// <summary>The rate limiter's policy on the sign-in form: at most 30 posts a minute from one address, whatever they hold.</summary>
    public const string RateLimitPolicy = "sign-in";

    public const int FreeFailuresPerAccount = 5;
    public const int FreeFailuresPerAddress = 20;
    public static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan Forget = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<string, Failures> _failures = new();

    private sealed record Failures(int Count, DateTimeOffset Last, DateTimeOffset NotBefore);

    /// <summary>How long this address must wait before an attempt for this email is checked; zero when it may try now.</summary>
    public TimeSpan WaitFor(string email, IPAddress? address)
    {
        var now = clock.GetUtcNow();
        var wait = TimeSpan.Zero;
        foreach (var key in Keys(email, address))
        {
            if (_failures.TryGetValue(key, out var failures) && failures.NotBefore > now)
            {
                wait = failures.NotBefore - now > wait ? failures.NotBefore - now : wait;
            }
        }

        return wait;
    }

    public void Failed(string email, IPAddress? address)
    {
        var now = clock.GetUtcNow();
        var (accountKey, addressKey) = (AccountKey(email, address), AddressKey(address));
        _failures.AddOrUpdate(accountKey, _ => Next(null, now, FreeFailuresPerAccount), (_, old) => Next(old, now, FreeFailuresPerAccount));
        _failures.AddOrUpdate(addressKey, _ => Next(null, now, FreeFailuresPerAddress), (_, old) => Next(old, now, FreeFailuresPerAddress));
        if (_failures.Count > 100_000)
        {
            foreach (var (key, stale) in _failures.Where(p => now - p.Value.Last > Forget))
            {
                _failures.TryRemove(key, out _);
            }
        }
    }

    public void Succeeded(string email, IPAddress? address) => _failures.TryRemove(AccountKey(email, address), out _);

    private static Failures Next(Failures? old, DateTimeOffset now, int free)
    {
        var count = old is null || now - old.Last > Forget ? 1 : old.Count + 1;
        var delay = count <= free ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(MaxDelay.TotalSeconds, Math.Pow(2, count - free - 1)));
        return new Failures(count, now, now + delay);
    }

    private static string[] Keys(string email, IPAddress? address) => [AccountKey(email, address), AddressKey(address)];

    private static string AccountKey(string email, IPAddress? address) => $"account:{email.Trim().ToUpperInvariant()}|{AddressKey(address)}";

    private static string AddressKey(IPAddress? address) => "address:" + (address is null ? "unknown" : address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address);
}
