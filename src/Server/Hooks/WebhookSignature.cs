using System.Security.Cryptography;

namespace FactoryMcp.Server.Hooks;

/// <summary>GitHub's X-Hub-Signature-256: <c>sha256=</c> and the hex HMAC-SHA256 of the raw body under the shared secret.</summary>
internal static class WebhookSignature
{
    public static bool Verify(byte[] secret, byte[] body, string? header)
    {
        if (header is null || !header.StartsWith("sha256=", StringComparison.Ordinal))
            return false;
        byte[] given;
        try
        {
            given = Convert.FromHexString(header.AsSpan(7));
        }
        catch (FormatException)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(secret, body), given);
    }

    public static string Sign(byte[] secret, byte[] body) =>
        "sha256=" + Convert.ToHexString(HMACSHA256.HashData(secret, body)).ToLowerInvariant();
}
