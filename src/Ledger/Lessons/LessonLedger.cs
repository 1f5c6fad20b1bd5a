using System.Text;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Lessons;

/// <summary>
/// Feedback and lessons. Post-run notes, review feedback and verifier findings are stored as task
/// feedback; only a human's promotion turns one into a lesson that later packets of its line carry.
/// </summary>
public sealed partial class LessonLedger(LedgerDatabase db)
{
    public const int MaxLessonChars = 2000;

    internal static async Task<long> AddFeedbackAsync(
        LedgerWrite w,
        long taskId,
        long? runId,
        string kind,
        string text,
        string author
    )
    {
        var id = await w.ScalarAsync<long>(
            """
            INSERT INTO feedback (task_id, run_id, kind, text, author, created_at) VALUES (@taskId, @runId, @kind, @text, @author, @now) RETURNING id
            """,
            SqlArgs.Of(
                new
                {
                    taskId,
                    runId,
                    kind,
                    text,
                    author,
                    now = w.NowText,
                }
            )
        );
        await w.AuditAsync(
            "feedback.recorded",
            "task",
            taskId,
            new JsonObject
            {
                ["feedback_id"] = id,
                ["run_id"] = runId,
                ["kind"] = kind,
                ["author"] = author,
            }
        );
        return id;
    }

    public async Task<IReadOnlyList<FeedbackRow>> FeedbackAsync(long? taskId = null, CancellationToken ct = default) =>
        (
            await db.QueryAsync<FeedbackRow>(
                FeedbackRow.Select + " WHERE @taskId IS NULL OR task_id = @taskId ORDER BY id DESC LIMIT 200",
                SqlArgs.Of(new { taskId }),
                ct
            )
        ).ToList();

    /// <summary>Promotes feedback (optionally reworded) to a lesson of its task's line.</summary>
    public async Task<LessonRow> PromoteAsync(
        Caller caller,
        long feedbackId,
        string? text,
        CancellationToken ct = default
    )
    {
        if (!caller.IsHuman)
            throw new LedgerException("Only a human promotes feedback to a lesson.");
        if (text is { Length: > MaxLessonChars })
            throw new LedgerException($"A lesson is at most {MaxLessonChars} characters; make it shorter.");
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var feedback =
                    await w.SingleOrDefaultAsync<FeedbackRow>(
                        FeedbackRow.Select + " WHERE id = @feedbackId",
                        SqlArgs.Of(new { feedbackId })
                    )
                    ?? throw new LedgerException(
                        $"There is no feedback {feedbackId}; `factory lessons feedback` lists it."
                    );
                var task = await TaskLedger.RequireAsync(w, feedback.TaskId);
                var lesson = string.IsNullOrWhiteSpace(text) ? feedback.Text : text.Trim();
                if (lesson.Length > MaxLessonChars)
                    lesson = lesson[..MaxLessonChars];
                var id = await w.ScalarAsync<long>(
                    """
                    INSERT INTO lessons (line, feedback_id, text, promoted_by, promoted_at) VALUES (@line, @feedbackId, @lesson, @actor, @now) RETURNING id
                    """,
                    SqlArgs.Of(
                        new
                        {
                            line = task.Line,
                            feedbackId,
                            lesson,
                            actor = caller.Actor,
                            now = w.NowText,
                        }
                    )
                );
                await w.AuditAsync(
                    "lesson.promoted",
                    "lesson",
                    id,
                    new JsonObject { ["line"] = task.Line, ["feedback_id"] = feedbackId }
                );
                return (
                    await w.SingleOrDefaultAsync<LessonRow>(
                        LessonRow.Select + " WHERE id = @id",
                        SqlArgs.Of(new { id })
                    )
                )!;
            },
            ct
        );
    }

    /// <summary>Retires an active lesson: later packets of its line no longer carry it. The row is kept, marked retired.</summary>
    public async Task<LessonRow> RetireAsync(Caller caller, long lessonId, CancellationToken ct = default)
    {
        if (!caller.IsHuman)
            throw new LedgerException("Only a human retires a lesson.");
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var lesson =
                    await w.SingleOrDefaultAsync<LessonRow>(
                        LessonRow.Select + " WHERE id = @lessonId",
                        SqlArgs.Of(new { lessonId })
                    )
                    ?? throw new LedgerException(
                        $"There is no lesson {lessonId}; `factory lessons list` lists the active ones."
                    );
                var changed = await w.ExecuteAsync(
                    "UPDATE lessons SET retired_at = @now WHERE id = @lessonId AND retired_at IS NULL",
                    SqlArgs.Of(new { now = w.NowText, lessonId })
                );
                if (changed == 0)
                    throw new LedgerException($"Lesson {lessonId} is already retired; nothing changed.");
                await w.AuditAsync("lesson.retired", "lesson", lessonId, new JsonObject { ["line"] = lesson.Line });
                return lesson;
            },
            ct
        );
    }

    /// <summary>A line's active lessons, newest first, capped in count and bytes.</summary>
    public async Task<IReadOnlyList<LessonRow>> ForLineAsync(
        string line,
        int maxCount,
        int maxBytes,
        CancellationToken ct = default
    )
    {
        // Part of every packet handed over: a prepared read on a reader connection.
        const string sql =
            LessonRow.Select + " WHERE line = @line AND retired_at IS NULL ORDER BY id DESC LIMIT @maxCount";
        var rows = await db.ReadPreparedAsync(
            async c =>
            {
                var found = new List<LessonRow>();
                await using var reader = await c.Bind(sql, null, ("line", line), ("maxCount", (long)maxCount))
                    .ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                    found.Add(LessonRow.Read(reader));
                return found;
            },
            ct
        );
        var kept = new List<LessonRow>();
        var bytes = 0;
        foreach (var row in rows)
        {
            bytes += Encoding.UTF8.GetByteCount(row.Text);
            if (bytes > maxBytes)
                break;
            kept.Add(row);
        }
        return kept;
    }

    public async Task<IReadOnlyList<LessonRow>> AllAsync(CancellationToken ct = default) =>
        (
            await db.QueryAsync<LessonRow>(LessonRow.Select + " WHERE retired_at IS NULL ORDER BY line, id", ct: ct)
        ).ToList();
}
