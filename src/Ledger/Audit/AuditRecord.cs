using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Audit;

/// <summary>
/// One transition's record: who did what to which entity, the canonical JSON of what changed, and the digest of
/// every row the write created, changed or deleted (<see cref="Rows"/>, keyed <c>table/key</c>; null: deleted).
/// </summary>
public sealed record AuditRecord(
    DateTimeOffset At,
    string Actor,
    string Action,
    string Entity,
    long? EntityId,
    JsonNode? Change,
    IReadOnlyDictionary<string, string?>? Rows = null
)
{
    internal string Body(long seq)
    {
        var body = new JsonObject
        {
            ["seq"] = seq,
            ["at"] = Iso.Text(At),
            ["actor"] = Actor,
            ["action"] = Action,
            ["entity"] = Entity,
            ["entity_id"] = EntityId,
            ["change"] = Change?.DeepClone(),
        };
        // Absent when the write touched no audited row, so records from before migration 0010 read the same.
        if (Rows is { Count: > 0 })
        {
            var rows = new JsonObject();
            foreach (var (name, digest) in Rows)
                rows[name] = digest;
            body["rows"] = rows;
        }
        return CanonicalJson.Canonicalize(body);
    }
}
