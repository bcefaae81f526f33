using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;

namespace DeliveryConsole.Features.Webhooks;

/// <summary>
/// Signing secrets: <c>whsec_</c> + 24 random bytes in base64, as Standard Webhooks uses them.
/// Stored encrypted (they must be readable to sign), shown in full only when created or rotated.
/// </summary>
public sealed class EndpointSecrets(IDataProtectionProvider provider)
{
    private readonly IDataProtector _protector = provider.CreateProtector("DeliveryConsole.WebhookEndpoint.Secret.v1");

    public static string NewSecret() => "whsec_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));

    public string Protect(string secret) => _protector.Protect(secret);

    public string Unprotect(string protectedSecret) => _protector.Unprotect(protectedSecret);
}
