using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace FactoryMcp.Tools.Telemetry;

/// <summary>
/// A run's trace id, derived from the ledger's identity (meta.ledger_id) and the run id alone: the first 16
/// bytes of SHA-256("factorymcp-run\n{ledger id}\n{run id}"). Every process and every replica of one ledger
/// computes the same id for a run; two ledgers never share one (their ids are random GUIDs).
/// </summary>
public static class RunTrace
{
    public static ActivityTraceId TraceIdOf(string ledgerId, long runId)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"factorymcp-run\n{ledgerId}\n{runId}"), hash);
        // An all-zero id is invalid in W3C trace context; SHA-256 giving 16 zero bytes is not a practical case.
        return ActivityTraceId.CreateFromBytes(hash[..16]);
    }

    [ThreadStatic]
    private static ActivityTraceId? pending;

    private static readonly Lock InstallGate = new();
    private static bool installed;

    /// <summary>
    /// Starts a true root span (no parent) in the trace <paramref name="traceId"/>. A root's trace id comes from
    /// <see cref="Activity.TraceIdGenerator"/> (the public hook for it); the factory's generator answers the id
    /// pending on this thread during this call and otherwise defers to whatever generator was set before it.
    /// </summary>
    public static Activity? StartRoot(
        string name,
        ActivityTraceId traceId,
        IEnumerable<KeyValuePair<string, object?>> tags,
        DateTimeOffset start
    )
    {
        Install();
        var outer = Activity.Current;
        Activity.Current = null;
        pending = traceId;
        try
        {
            return FactoryTelemetry.Source.StartActivity(
                name,
                ActivityKind.Internal,
                parentContext: default,
                tags: tags,
                startTime: start
            );
        }
        finally
        {
            pending = null;
            Activity.Current = outer;
        }
    }

    private static void Install()
    {
        lock (InstallGate)
        {
            if (installed)
                return;
            var previous = Activity.TraceIdGenerator;
            Activity.TraceIdGenerator = () => pending ?? previous?.Invoke() ?? ActivityTraceId.CreateRandom();
            installed = true;
        }
    }
}
