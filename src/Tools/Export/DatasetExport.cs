using System.Text.Json;
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
                JsonSerializer.Serialize(
                    new
                    {
                        e.Id,
                        e.RunId,
                        e.TaskId,
                        e.Sha,
                        e.Environment,
                        e.Source,
                        e.PrUrl,
                        shipped_at = Iso.Text(e.ShippedAt),
                        e.RecordedBy,
                    },
                    Json.Options
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
                JsonSerializer.Serialize(
                    new
                    {
                        run_id = run.Id,
                        task_id = task.Id,
                        environment = environment,
                        task.Line,
                        task.Title,
                        agent = run.AgentName,
                        packet = packet.Markdown,
                        outcome = new
                        {
                            run_state = run.State,
                            task_state = task.State,
                            run.CloseReason,
                            run.HeadSha,
                            run.BaseSha,
                            task.Attempts,
                            task.Reworks,
                        },
                        evidence = items.Select(e => new
                        {
                            e.Kind,
                            e.Origin,
                            e.Stage,
                            e.Summary,
                            content = e.Content,
                            blob_sha = e.BlobSha,
                            created_at = Iso.Text(e.CreatedAt),
                        }),
                        declarations = declared.Select(d => new
                        {
                            d.State,
                            d.Outcome,
                            d.Summary,
                            d.Reason,
                            d.Question,
                            d.ResidualRisk,
                            problems = Json.ReadStrings(d.ProblemsJson),
                        }),
                        verdicts = verdicts.Select(v => new
                        {
                            v.Role,
                            v.Verdict,
                            v.Findings,
                        }),
                        review = reviewed.Select(r => new
                        {
                            r.Outcome,
                            r.Feedback,
                            r.ReviewedSha,
                        }),
                        cost = items.Where(e => e.Kind == "cost").Select(e => e.Content ?? e.Summary),
                        lessons = lessonsByLine.GetValueOrDefault(task.Line) ?? [],
                    },
                    Json.Options
                )
            );
        }
    }
}
