using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Settings;

namespace FactoryMcp.Tools.Telemetry;

/// <summary>
/// Who may send to the OTLP receiver (README "Telemetry", "Telemetry in"): tokens derived from the hooks secret,
/// so the receiver is authenticated as the webhooks are without ever handing the secret out. A run token
/// (<c>r{run}.{hmac}</c>) is what `factory drain` and the packet give one agent session: it carries usage for that
/// run only. The intake token (<c>i.{hmac}</c>, `factory otlp-token`) is for the team's own services and collectors.
/// </summary>
public static class OtlpTokens
{
    /// <summary>The header exporters send the token in (Authorization: Bearer TOKEN is read too).</summary>
    public const string Header = "x-factory-otlp-token";

    public static string ForRun(byte[] secret, long runId) =>
        $"r{runId.ToString(CultureInfo.InvariantCulture)}.{Mac(secret, $"factorymcp-otlp-run\n{runId.ToString(CultureInfo.InvariantCulture)}")}";

    public static string Intake(byte[] secret) => $"i.{Mac(secret, "factorymcp-otlp-intake")}";

    /// <summary>Checks a token: (true, null) for the intake token, (true, run) for a run token, (false, null) otherwise.</summary>
    public static (bool Valid, long? Run) Check(byte[] secret, string? token)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 100)
            return (false, null);
        if (Same(token, Intake(secret)))
            return (true, null);
        var dot = token.IndexOf('.', StringComparison.Ordinal);
        if (
            token[0] == 'r'
            && dot > 1
            && long.TryParse(token.AsSpan(1, dot - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var run)
            && run > 0
            && Same(token, ForRun(secret, run))
        )
            return (true, run);
        return (false, null);
    }

    /// <summary>The hooks secret, or null when none is configured (the receiver then does not run).</summary>
    public static byte[]? Secret(FactorySettings.HooksSettings hooks, string ledgerFolder)
    {
        if (Environment.GetEnvironmentVariable(hooks.SecretEnv) is { Length: > 0 } fromEnv)
            return Encoding.UTF8.GetBytes(fromEnv);
        if (hooks.SecretFile is { } file)
        {
            var path = Path.IsPathRooted(file) ? file : Path.Combine(ledgerFolder, file);
            if (File.Exists(path) && File.ReadAllText(path).Trim() is { Length: > 0 } fromFile)
                return Encoding.UTF8.GetBytes(fromFile);
        }
        return null;
    }

    /// <summary>
    /// The receiver's base address as agents reach it (exporters append /v1/logs and /v1/metrics):
    /// hooks.otlp_url, else the first of hooks.urls with /otlp; null when neither is set.
    /// </summary>
    public static string? Endpoint(FactorySettings.HooksSettings hooks)
    {
        if (hooks.OtlpUrl is { Length: > 0 } url)
            return url.TrimEnd('/');
        if (
            hooks.Urls?.Split([';', ','], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            is not [var first, ..]
        )
            return null;
        if (!Uri.TryCreate(first, UriKind.Absolute, out var uri) || uri.Port == 0)
            return null;
        return uri.GetLeftPart(UriPartial.Authority) + "/otlp";
    }

    private static string Mac(byte[] secret, string message) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes(message)))[..40];

    private static bool Same(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(a), Encoding.UTF8.GetBytes(b));

    /// <summary>Refused when the token does not fit the data (kept here so the message is one text).</summary>
    public static LedgerException NoSecret(FactorySettings.HooksSettings hooks) =>
        new(
            $"No hooks secret is configured: set {hooks.SecretEnv} (hooks.secret_env) or hooks.secret_file in factory.yaml; OTLP tokens are derived from it."
        );
}
