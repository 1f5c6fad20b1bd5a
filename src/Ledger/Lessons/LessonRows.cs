namespace FactoryMcp.Ledger.Lessons;

/// <summary>Task feedback: a post-run note, review feedback or a verifier's findings. Raw material, never shown to other agents.</summary>
public sealed record FeedbackRow
{
    public required long Id { get; init; }
    public required long TaskId { get; init; }
    public long? RunId { get; init; }
    public required string Kind { get; init; }
    public required string Text { get; init; }
    public required string Author { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }

    internal const string Select = """
        SELECT id AS Id, task_id AS TaskId, run_id AS RunId, kind AS Kind, text AS Text, author AS Author, created_at AS CreatedAt FROM feedback
        """;
}

/// <summary>A lesson of a line: feedback a human promoted; later packets of the line carry it.</summary>
public sealed record LessonRow
{
    public required long Id { get; init; }
    public required string Line { get; init; }
    public long? FeedbackId { get; init; }
    public required string Text { get; init; }
    public required string PromotedBy { get; init; }
    public required DateTimeOffset PromotedAt { get; init; }

    internal const string Select = """
        SELECT id AS Id, line AS Line, feedback_id AS FeedbackId, text AS Text, promoted_by AS PromotedBy, promoted_at AS PromotedAt FROM lessons
        """;

    /// <summary>A lesson from the columns of <see cref="Select"/> (hot reads, without the row mapper).</summary>
    internal static LessonRow Read(System.Data.Common.DbDataReader r) =>
        new()
        {
            Id = Storage.Columns.Long(r, 0),
            Line = r.GetString(1),
            FeedbackId = Storage.Columns.LongOrNull(r, 2),
            Text = r.GetString(3),
            PromotedBy = r.GetString(4),
            PromotedAt = Storage.Columns.At(r, 5),
        };
}
