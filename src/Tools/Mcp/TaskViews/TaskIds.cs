using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace FactoryMcp.Tools.Mcp.TaskViews;

/// <summary>
/// Task ids derived from what they show, so any process serving the ledger resolves them:
/// <c>job-{job}-{generation}-{mac}</c> for a view of a validation job (the generation counts the views
/// cancelled before it) and <c>now-{audit seq}-{mac}</c> for an answer given at once. The HMAC under the
/// ledger's task key makes them unguessable (the extension asks for that).
/// </summary>
internal static class TaskIds
{
    public static string ForJob(byte[] key, long jobId, long generation) =>
        $"job-{jobId}-{generation}-{Mac(key, $"job:{jobId}:{generation}")}";

    public static string ForAnswer(byte[] key, long seq) => $"now-{seq}-{Mac(key, $"now:{seq}")}";

    /// <summary>The parts of a well-formed, authentic id; null for anything else.</summary>
    public static (string Kind, long Number, long Generation)? Parse(byte[] key, string? id)
    {
        var parts = (id ?? "").Split('-');
        if (parts is ["job", var job, var generation, _])
            return Number(job) is { } j && Number(generation) is { } g && Same(id, ForJob(key, j, g))
                ? ("job", j, g)
                : null;
        if (parts is ["now", var seq, _])
            return Number(seq) is { } s && Same(id, ForAnswer(key, s)) ? ("now", s, 0) : null;
        return null;
    }

    private static long? Number(string text) =>
        text.Length is > 0 and < 19 && text.All(char.IsAsciiDigit)
            ? long.Parse(text, CultureInfo.InvariantCulture)
            : null;

    private static bool Same(string? given, string expected) =>
        CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given ?? ""), Encoding.UTF8.GetBytes(expected));

    private static string Mac(byte[] key, string subject) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(subject)))[..32];
}
