using System.Text.Json;
using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tools.Export;

/// <summary>
/// JSONL exports: shipped events (each tagged with its environment), and runs — one line per run with
/// its packet, evidence (origin marked), verdicts, review, outcome, cost and its line's lessons: the
/// training set for tuning station prompts later.
/// </summary>
public sealed class DatasetExport(FactoryServices factory)
{
    public async Task WriteEventsAsync(TextWriter output, CancellationToken ct = default)
    {
        foreach (var e in await factory.Shipping.EventsAsync(ct))
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
        var runIds = await factory.Runs.AllIdsAsync(ct);
        var lessonsByLine = (await factory.Lessons.AllAsync(ct))
            .GroupBy(l => l.Line)
            .ToDictionary(g => g.Key, g => g.Select(l => l.Text).ToList());
        foreach (var runId in runIds)
        {
            var run = await factory.Runs.GetAsync(runId, ct);
            var task = await factory.Tasks.GetAsync(run.TaskId, ct);
            var packet = await factory.Tasks.GetPacketAsync(task.Id, run.PacketVersion, ct);
            var evidence = await factory.Runs.EvidenceAsync(runId, ct);
            var declarations = await factory.Runs.DeclarationsAsync(runId, ct);
            var verdicts = await factory.Verifications.ForRunAsync(runId, ct);
            var reviews = await factory.Reviews.ForRunAsync(runId, ct);
            await output.WriteLineAsync(
                JsonSerializer.Serialize(
                    new
                    {
                        run_id = run.Id,
                        task_id = task.Id,
                        environment = factory.Db.Environment,
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
                        evidence = evidence.Select(e => new
                        {
                            e.Kind,
                            e.Origin,
                            e.Stage,
                            e.Summary,
                            content = e.Content,
                            blob_sha = e.BlobSha,
                            created_at = Iso.Text(e.CreatedAt),
                        }),
                        declarations = declarations.Select(d => new
                        {
                            d.State,
                            d.Outcome,
                            d.Summary,
                            d.Reason,
                            d.Question,
                            d.ResidualRisk,
                            problems = Json.Deserialize<List<string>>(d.ProblemsJson),
                        }),
                        verdicts = verdicts.Select(v => new
                        {
                            v.Role,
                            v.Verdict,
                            v.Findings,
                        }),
                        review = reviews.Select(r => new
                        {
                            r.Outcome,
                            r.Feedback,
                            r.ReviewedSha,
                        }),
                        cost = evidence.Where(e => e.Kind == "cost").Select(e => e.Content ?? e.Summary),
                        lessons = lessonsByLine.GetValueOrDefault(task.Line) ?? [],
                    },
                    Json.Options
                )
            );
        }
    }
}
