using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;

namespace FactoryMcp.Tools.Telemetry;

/// <summary>
/// A run's trace context, derived from the ledger file and the run id alone, so every process that acts on
/// the run (the claiming server, a validation worker elsewhere, a later resume) puts its spans in the same
/// trace under the same root span without storing anything: trace id and root span id are the first 16 and
/// the next 8 bytes of SHA-256("factorymcp-run\n{ledger file}\n{run id}").
/// </summary>
public static class RunTrace
{
    public static ActivityContext Of(string ledgerFile, long runId)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"factorymcp-run\n{Path.GetFullPath(ledgerFile)}\n{runId}"), hash);
        // An all-zero id is invalid in W3C trace context; SHA-256 giving 16 zero bytes is not a practical case.
        return new ActivityContext(
            ActivityTraceId.CreateFromBytes(hash[..16]),
            ActivitySpanId.CreateFromBytes(hash[16..24]),
            ActivityTraceFlags.Recorded,
            isRemote: true
        );
    }
}
