using FactoryMcp.Ledger.Queries;

namespace FactoryMcp.Ledger.Lessons;

public sealed partial class LessonLedger
{
    /// <summary>
    /// Feedback no lesson was promoted from yet, newest first, by the task's line, the author (agent),
    /// arrival (since) and words in the text: what a human may still promote.
    /// </summary>
    public async Task<IReadOnlyList<FeedbackRow>> FeedbackToPromoteAsync(
        LedgerQuery query,
        CancellationToken ct = default
    )
    {
        const string sql =
            FeedbackRow.Select
            + """
                 WHERE NOT EXISTS (SELECT 1 FROM lessons l WHERE l.feedback_id = feedback.id)
                   AND (@line IS NULL OR EXISTS (SELECT 1 FROM tasks t WHERE t.id = feedback.task_id AND t.line = @line))
                   AND (@agent IS NULL OR author = @agent)
                   AND (@since IS NULL OR created_at >= @since)
                   AND (@pattern IS NULL OR lower(text) LIKE @pattern ESCAPE '\')
                   AND (@beforeId IS NULL OR id < @beforeId)
                 ORDER BY id DESC LIMIT @limit
                """;
        return (await db.QueryAsync<FeedbackRow>(sql, query.Parameters, ct)).ToList();
    }
}
