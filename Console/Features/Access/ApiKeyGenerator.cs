using System.Security.Cryptography;
using System.Text;

namespace DeliveryConsole.Features.Access;

/// <summary>API keys: <c>dck_</c> plus 32 random base62 characters (about 190 bits), stored as a SHA-256 hash.</summary>
public static class ApiKeyGenerator
{
    public const string KeyPrefix = "dck_";
    public const int PrefixLength = 12;
    private const string Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

    public static string NewKey() => KeyPrefix + RandomNumberGenerator.GetString(Alphabet, 32);

    /// <summary>The visible part: enough to tell keys apart, useless to authenticate.</summary>
    public static string PrefixOf(string key) => key.Length <= PrefixLength ? key : key[..PrefixLength];

    /// <summary>
    /// SHA-256 is the right hash here: the key is long and random, so there is nothing to brute
    /// force, and every request must verify it quickly (a password hash would cost ~100 ms a request).
    /// </summary>
    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static bool LooksLikeKey(string? value) =>
        value is { Length: > 20 and < 200 } && value.StartsWith(KeyPrefix, StringComparison.Ordinal);
}
