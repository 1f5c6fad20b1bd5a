using System.Text.Json.Nodes;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lessons;
using FactoryMcp.Ledger.Reviews;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Shipping;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;
using FactoryMcp.Ledger.Verification;

namespace FactoryMcp.Tools.Export;

/// <summary>
/// JSONL exports: shipped events (each tagged with its environment), and runs — one line per run with
/// its packet, evidence (origin marked), verdicts, review, outcome, cost and its line's lessons: the
/// training set for tuning station prompts later.
/// </summary>
public sealed class DatasetExport(
    ShippingLedger shipping,
    RunLedger runs,
    TaskLedger tasks,
    EvidenceLedger evidence,
    DeclarationLedger declarations,
    VerificationLedger verifications,
    ReviewLedger reviews,
    LessonLedger lessons,
    string environment
)
{
    public async Task WriteEventsAsync(TextWriter output, CancellationToken ct = default)
    {
        foreach (var e in await shipping.EventsAsync(ct))
        {
            await output.WriteLineAsync(
                Json.Compact(
                    new JsonObject
                    {
                        ["id"] = e.Id,
                        ["run_id"] = e.RunId,
                        ["task_id"] = e.TaskId,
                        ["sha"] = e.Sha,
                        ["environment"] = e.Environment,
                        ["source"] = e.Source,
                        ["pr_url"] = e.PrUrl,
                        ["shipped_at"] = Iso.Text(e.ShippedAt),
                        ["recorded_by"] = e.RecordedBy,
                    }
                )
            );
        }
    }

    public async Task WriteRunsAsync(TextWriter output, CancellationToken ct = default)
    {
        var runIds = await runs.AllIdsAsync(ct);
        var lessonsByLine = (await lessons.AllAsync(ct))
            .GroupBy(l => l.Line)
            .ToDictionary(g => g.Key, g => g.Select(l => l.Text).ToList());
        foreach (var runId in runIds)
        {
            var run = await runs.GetAsync(runId, ct);
            var task = await tasks.GetAsync(run.TaskId, ct);
            var packet = await tasks.GetPacketAsync(task.Id, run.PacketVersion, ct);
            var items = await evidence.ForRunAsync(runId, ct);
            var declared = await declarations.ForRunAsync(runId, ct);
            var verdicts = await verifications.ForRunAsync(runId, ct);
            var reviewed = await reviews.ForRunAsync(runId, ct);
            await output.WriteLineAsync(
                Json.Compact(
                    new JsonObject
                    {
                        ["run_id"] = run.Id,
                        ["task_id"] = task.Id,
                        ["environment"] = environment,
                        ["line"] = task.Line,
                        ["title"] = task.Title,
                        ["agent"] = run.AgentName,
                        ["packet"] = packet.Markdown,
                        ["outcome"] = new JsonObject
                        {
                            ["run_state"] = run.State,
                            ["task_state"] = task.State,
                            ["close_reason"] = run.CloseReason,
                            ["head_sha"] = run.HeadSha,
                            ["base_sha"] = run.BaseSha,
                            ["attempts"] = task.Attempts,
                            ["reworks"] = task.Reworks,
                        },
                        ["evidence"] = Json.Array(
                            items.Select(e =>
                                (JsonNode?)
                                    new JsonObject
                                    {
                                        ["kind"] = e.Kind,
                                        ["origin"] = e.Origin,
                                        ["stage"] = e.Stage,
                                        ["summary"] = e.Summary,
                                        ["content"] = e.Content,
                                        ["blob_sha"] = e.BlobSha,
                                        ["created_at"] = Iso.Text(e.CreatedAt),
                                    }
                            )
                        ),
                        ["declarations"] = Json.Array(
                            declared.Select(d =>
                                (JsonNode?)
                                    new JsonObject
                                    {
                                        ["state"] = d.State,
                                        ["outcome"] = d.Outcome,
                                        ["summary"] = d.Summary,
                                        ["reason"] = d.Reason,
                                        ["question"] = d.Question,
                                        ["residual_risk"] = d.ResidualRisk,
                                        ["problems"] = Json.Array(Json.ReadStrings(d.ProblemsJson)),
                                    }
                            )
                        ),
                        ["verdicts"] = Json.Array(
                            verdicts.Select(v =>
                                (JsonNode?)
                                    new JsonObject
                                    {
                                        ["role"] = v.Role,
                                        ["verdict"] = v.Verdict,
                                        ["findings"] = v.Findings,
                                    }
                            )
                        ),
                        ["review"] = Json.Array(
                            reviewed.Select(r =>
                                (JsonNode?)
                                    new JsonObject
                                    {
                                        ["outcome"] = r.Outcome,
                                        ["feedback"] = r.Feedback,
                                        ["reviewed_sha"] = r.ReviewedSha,
                                    }
                            )
                        ),
                        ["cost"] = Json.Array(items.Where(e => e.Kind == "cost").Select(e => e.Content ?? e.Summary)),
                        ["lessons"] = Json.Array(lessonsByLine.GetValueOrDefault(task.Line) ?? []),
                    }
                )
            );
        }
    }
}
