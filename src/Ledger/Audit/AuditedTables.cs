using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace FactoryMcp.Ledger.Audit;

/// <summary>
/// A table whose rows carry meaning: every row is committed to by the audit record of the write that created,
/// changed or deleted it (README, "What `ledger verify` proves"). <paramref name="Key"/> is its primary key;
/// <paramref name="Ignored"/> are bookkeeping columns (leases, last seen, progress) left out of the digest, and
/// out of the trigger of migration 0010, so renewing a lease needs no audit record.
/// </summary>
public sealed record AuditedTable(string Name, string[] Key, string[] Ignored)
{
    /// <summary>Whether the key is one integer column, so a set of rows is fetched in one statement.</summary>
    internal bool IntegerKey => Key.Length == 1 && !AuditedTables.TextKeys.Contains((Name, Key[0]));
}

/// <summary>The tables migration 0010 puts triggers on, and how a row is named and digested.</summary>
public static class AuditedTables
{
    /// <summary>
    /// Every table of the ledger but meta (written once at creation), audit (the chain itself), audit_pending
    /// (the triggers' scratch list), PostgreSQL's blob store (content-addressed: a blob is named by its sha256,
    /// which the evidence row that refers to it is committed to), the fleet registry (heartbeats of live
    /// processes: operational state that decides nothing) and mcp_sessions (transport state: a resumable MCP
    /// session grants nothing its caller's token does not, since every replica checks the token first).
    /// </summary>
    public static readonly IReadOnlyList<AuditedTable> All =
    [
        new("agents", ["id"], ["last_seen_at"]),
        new("pools", ["name"], []),
        new("pool_members", ["pool", "agent_id"], []),
        new("signals", ["id"], []),
        new("tasks", ["id"], []),
        new("packet_versions", ["task_id", "version"], []),
        new("queue", ["task_id"], []),
        // trace_span_id (migration 0011): the run trace's root span, stored once by whichever process traces first.
        new("runs", ["id"], ["lease_expires_at", "lease_started_at", "trace_span_id"]),
        new("stages", ["id"], []),
        new("evidence", ["id"], []),
        new("declarations", ["id"], []),
        new("escalations", ["id"], ["notified_at"]),
        new("idempotency", ["caller", "tool", "key"], []),
        new("validation_jobs", ["id"], ["owner", "lease_expires_at", "starts", "progress", "delivered"]),
        new("validation_cache", ["subject", "command", "environment"], []),
        new("verifications", ["id"], ["lease_expires_at"]),
        new("verdicts", ["id"], []),
        new("reviews", ["id"], []),
        new("feedback", ["id"], []),
        new("lessons", ["id"], []),
        new("shipped_events", ["id"], []),
        new("drafts", ["id"], []),
        new("content_jobs", ["event_id"], []),
        new("hook_deliveries", ["delivery_id"], []),
        new("merged_pull_requests", ["id"], []),
        new("signal_links", ["signal_id", "related_kind", "related_id"], []),
        new("attestations", ["run_id"], []),
        // Migration 0015 (triggers): firings claimed once across processes, and per-test results for flaky tests.
        new("trigger_firings", ["id"], []),
        new("test_results", ["id"], []),
        // Migration 0017 (opened pull requests): which PR head each blind verification judged, and its comment.
        new("pull_verifications", ["id"], []),
    ];

    /// <summary>The tables the audit does not cover, each for the reason given on <see cref="All"/>.</summary>
    public static readonly IReadOnlySet<string> Unaudited = new HashSet<string>(StringComparer.Ordinal)
    {
        "meta",
        "audit",
        "audit_pending",
        "blobs",
        "blob_chunks",
        "factory_schema",
        "fleet_processes",
        "mcp_sessions",
        // Telemetry measurements (migration 0014): agents' token and cost counters and production error counts,
        // added to by every OTLP export; the signal an error group raises is audited as every signal is.
        "run_usage",
        "error_groups",
        // Diagnostics (migration 0016): tool calls on a run, buffered and written in batches, capped per run.
        "tool_calls",
    };

    /// <summary>Key columns holding text (the rest hold integers).</summary>
    internal static readonly IReadOnlySet<(string, string)> TextKeys = new HashSet<(string, string)>
    {
        ("pools", "name"),
        ("pool_members", "pool"),
        ("idempotency", "caller"),
        ("idempotency", "tool"),
        ("idempotency", "key"),
        ("validation_cache", "subject"),
        ("validation_cache", "command"),
        ("validation_cache", "environment"),
        ("hook_deliveries", "delivery_id"),
        ("signal_links", "related_kind"),
    };

    private static readonly Dictionary<string, AuditedTable> ByName = All.ToDictionary(
        t => t.Name,
        StringComparer.Ordinal
    );

    internal static AuditedTable? Find(string name) => ByName.GetValueOrDefault(name);

    /// <summary>One key part as the triggers write it: text, '%' and '/' escaped, so parts join with '/' unambiguously.</summary>
    internal static string Escape(string part) =>
        part.Replace("%", "%25", StringComparison.Ordinal).Replace("/", "%2F", StringComparison.Ordinal);

    internal static string Unescape(string part) =>
        part.Replace("%2F", "/", StringComparison.Ordinal).Replace("%25", "%", StringComparison.Ordinal);

    /// <summary>The key parts of a key written by the triggers, typed for a query (integers as longs).</summary>
    internal static object[] ParseKey(AuditedTable table, string key)
    {
        var parts = key.Split('/');
        if (parts.Length != table.Key.Length)
            throw new InvalidOperationException($"The audit key '{key}' does not fit the key of {table.Name}.");
        var values = new object[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            var text = Unescape(parts[i]);
            values[i] = TextKeys.Contains((table.Name, table.Key[i]))
                ? text
                : long.Parse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }
        return values;
    }

    /// <summary>The row's name in an audit record, <c>table/key</c>, and the sha256 of its canonical JSON.</summary>
    internal static (string Name, string Digest) Read(AuditedTable table, DbDataReader reader)
    {
        var row = new JsonObject();
        var parts = new string[table.Key.Length];
        for (var i = 0; i < reader.FieldCount; i++)
        {
            var column = reader.GetName(i);
            var value = reader.IsDBNull(i) ? null : reader.GetValue(i);
            var keyIndex = Array.IndexOf(table.Key, column);
            if (keyIndex >= 0)
                parts[keyIndex] = Escape(Convert.ToString(value, CultureInfo.InvariantCulture) ?? "");
            // Absent and null are one: a nullable column added later leaves the digests of older rows as they were.
            if (value is null || table.Ignored.Contains(column))
                continue;
            row[column] = value switch
            {
                string s => JsonValue.Create(s),
                long l => JsonValue.Create(l),
                int n => JsonValue.Create((long)n),
                short n => JsonValue.Create((long)n),
                double d => JsonValue.Create(d),
                float f => JsonValue.Create((double)f),
                bool b => JsonValue.Create(b ? 1L : 0L),
                byte[] bytes => JsonValue.Create(Convert.ToBase64String(bytes)),
                _ => JsonValue.Create(Convert.ToString(value, CultureInfo.InvariantCulture)),
            };
        }
        var digest = Convert
            .ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(CanonicalJson.Canonicalize(row))))
            .ToLowerInvariant();
        return (table.Name + "/" + string.Join('/', parts), digest);
    }
}
