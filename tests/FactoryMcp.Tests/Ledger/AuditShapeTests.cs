using System.Text.Json;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Audit;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Idempotency;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Tests.Ledger;

/// <summary>
/// Pins the bytes the ledger signs and stores now that audit changes are built as <see cref="JsonObject"/> and named
/// types go through source-generated metadata (issue 18, Native AOT): each must equal what the reflection-based
/// serialization of the former anonymous object or type produced, so records and hashes written before the change
/// still verify and still match.
/// </summary>
public sealed class AuditShapeTests
{
    private static readonly DateTimeOffset At = new(2026, 12, 1, 23, 0, 0, TimeSpan.Zero);

    [Fact]
    public void AuditBody_FromJsonObject_EqualsTheAnonymousObjectsBytes()
    {
        var links = new[] { (Kind: "signal", Id: 7L, Score: 0.912345678), (Kind: "task", Id: 9L, Score: 1.0) };
        var roles = new List<string> { "security", "tests" };
        var built = new JsonObject
        {
            ["source"] = "github",
            ["external_id"] = (string?)null,
            ["title"] = "Crash \"on\" save\n\u0001é",
            ["attempts"] = 3,
            ["run_id"] = 12L,
            ["pass"] = true,
            ["scheduled_at"] = Iso.Text(At),
            ["roles"] = Json.Array(roles),
            ["possible_duplicates"] = Json.Array(
                links.Select(l =>
                    (JsonNode?)
                        new JsonObject
                        {
                            ["kind"] = l.Kind,
                            ["id"] = l.Id,
                            ["similarity"] = Math.Round(l.Score, 4),
                        }
                )
            ),
        };
        var anonymous = new
        {
            source = "github",
            external_id = (string?)null,
            title = "Crash \"on\" save\n\u0001é",
            attempts = 3,
            run_id = 12L,
            pass = true,
            scheduled_at = Iso.Text(At),
            roles,
            possible_duplicates = links
                .Select(l => new
                {
                    kind = l.Kind,
                    id = l.Id,
                    similarity = Math.Round(l.Score, 4),
                })
                .ToList(),
        };

        var fromNode = Record(built).Body(5);
        var fromReflection = Record(CanonicalJson.ToNode(anonymous)).Body(5);

        Assert.Equal(fromReflection, fromNode);
        Assert.Equal(
            """{"action":"signal.recorded","actor":"human:ana","at":"2026-12-01T23:00:00.000Z","change":{"attempts":3,"external_id":null,"pass":true,"possible_duplicates":[{"id":7,"kind":"signal","similarity":0.9123},{"id":9,"kind":"task","similarity":1}],"roles":["security","tests"],"run_id":12,"scheduled_at":"2026-12-01T23:00:00.000Z","source":"github","title":"Crash \"on\" save\n\u0001é"},"entity":"signal","entity_id":4,"seq":5}""",
            fromNode
        );
    }

    [Fact]
    public void AuditBody_NodeHoldingClrValues_CanonicalizesAsTheirJson()
    {
        // A node built in code holds the CLR value (an int, a decimal, a DateTimeOffset), not a JsonElement.
        var built = new JsonObject
        {
            ["count"] = 2,
            ["ratio"] = 0.25m,
            ["at"] = At,
            ["big"] = 1L << 60,
        };
        var anonymous = new
        {
            count = 2,
            ratio = 0.25m,
            at = At,
            big = 1L << 60,
        };

        Assert.Equal(Record(CanonicalJson.ToNode(anonymous)).Body(1), Record(built).Body(1));
        Assert.Contains(
            "\"change\":{\"at\":\"2026-12-01T23:00:00+00:00\",\"big\":1152921504606847000,\"count\":2,\"ratio\":0.25}",
            Record(built).Body(1)
        );
    }

    [Fact]
    public void AuditBody_SignedAgain_ReusesItsChange()
    {
        // A write's last record is signed a second time with its rows (SealAsync): the change node is read twice.
        var record = Record(new JsonObject { ["part"] = 1 });
        var first = record.Body(3);
        var resigned = (record with { Rows = new Dictionary<string, string?> { ["tasks/1"] = "ab" } }).Body(3);

        Assert.Equal(first, record.Body(3));
        Assert.Contains("\"rows\":{\"tasks/1\":\"ab\"}", resigned);
    }

    [Fact]
    public void IdempotencyHash_OfNamedInputs_EqualsTheReflectionHash()
    {
        var evidence = new EvidenceInput(4, "log", "the build log", Content: "ok\n", Stage: null);
        var declaration = new DeclarationInput(4, "DONE", "fixed", HeadCommit: "abc123");

        Assert.Equal(
            """{"content":"ok\n","file":null,"kind":"log","run_id":4,"stage":null,"summary":"the build log"}""",
            CanonicalJson.Serialize(evidence, CanonicalLedgerJson.Default.EvidenceInput)
        );
        Assert.Equal(
            CanonicalJson.Serialize((object)evidence),
            CanonicalJson.Serialize(evidence, CanonicalLedgerJson.Default.EvidenceInput)
        );
        Assert.Equal(
            CanonicalJson.Serialize((object)declaration),
            CanonicalJson.Serialize(declaration, CanonicalLedgerJson.Default.DeclarationInput)
        );
        var reflectionHash = Convert
            .ToHexString(
                System.Security.Cryptography.SHA256.HashData(
                    System.Text.Encoding.UTF8.GetBytes(CanonicalJson.Serialize((object)evidence))
                )
            )
            .ToLowerInvariant();
        Assert.Equal(
            reflectionHash,
            IdempotencyKeys.HashArguments(evidence, CanonicalLedgerJson.Default.EvidenceInput)
        );
    }

    [Fact]
    public void StoredJson_OfNamedTypes_EqualsTheReflectionJson()
    {
        var receipt = new EvidenceReceipt(8, 4, "log", null, ["plan", "reproduction"], "2026-12-01T23:30:00.000Z");
        var result = new DeclarationResult(4, 2, "accepted", "accepted", "done", "Accepted.");
        var declaration = new DeclarationInput(4, "DONE", "fixed", ResidualRisk: "none");

        Assert.Equal(
            """{"evidence_id":8,"run_id":4,"kind":"log","still_required":["plan","reproduction"],"lease_expires_at":"2026-12-01T23:30:00.000Z"}""",
            Json.Serialize(receipt, LedgerJson.Default.EvidenceReceipt)
        );
        Assert.Equal(
            JsonSerializer.Serialize(receipt, Json.Options),
            Json.Serialize(receipt, LedgerJson.Default.EvidenceReceipt)
        );
        Assert.Equal(
            JsonSerializer.Serialize(result, Json.Options),
            Json.Serialize(result, LedgerJson.Default.DeclarationResult)
        );
        Assert.Equal(
            JsonSerializer.Serialize(declaration, Json.Options),
            Json.Serialize(declaration, LedgerJson.Default.DeclarationInput)
        );
        Assert.Equal(
            declaration,
            Json.Deserialize(
                Json.Serialize(declaration, LedgerJson.Default.DeclarationInput),
                LedgerJson.Default.DeclarationInput
            )
        );
        Assert.Equal("""["a","b"]""", Json.Strings(["a", "b"]));
        Assert.Equal(["a", "b"], Json.ReadStrings("""["a","b"]"""));
    }

    private static AuditRecord Record(JsonNode? change) => new(At, "human:ana", "signal.recorded", "signal", 4, change);
}
