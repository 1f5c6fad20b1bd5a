using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Audit;

/// <summary>One transition's record: who did what to which entity, and the canonical JSON of what changed.</summary>
public sealed record AuditRecord(
    DateTimeOffset At,
    string Actor,
    string Action,
    string Entity,
    long? EntityId,
    object Change
)
{
    internal string Body(long seq) =>
        CanonicalJson.Canonicalize(
            new JsonObject
            {
                ["seq"] = seq,
                ["at"] = Iso.Text(At),
                ["actor"] = Actor,
                ["action"] = Action,
                ["entity"] = Entity,
                ["entity_id"] = EntityId,
                ["change"] =
                    Change as JsonNode
                    ?? System.Text.Json.JsonSerializer.SerializeToNode(Change, CanonicalJson.Options),
            }
        );
}
