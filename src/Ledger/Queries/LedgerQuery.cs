namespace FactoryMcp.Ledger.Queries;

/// <summary>
/// The filters a human's reads share (list_tasks, list_records, the CLI's lists): each is optional, and
/// <see cref="BeforeId"/> pages newest first by id.
/// </summary>
public sealed record LedgerQuery
{
    /// <summary>A task or run state, a signal status or a draft status, depending on what is listed.</summary>
    public string? State { get; init; }
    public string? Line { get; init; }

    /// <summary>An agent's name: tasks it ran, its runs, feedback it wrote.</summary>
    public string? Agent { get; init; }

    /// <summary>Only what changed (tasks), opened (runs) or arrived (signals) at or after this instant.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Words to find in titles (case-insensitive, as written).</summary>
    public string? Text { get; init; }
    public long? BeforeId { get; init; }
    public int Limit { get; init; } = 50;

    public int ClampedLimit => Math.Clamp(Limit, 1, 200);

    /// <summary>The LIKE pattern for <see cref="Text"/> (lower-cased, wildcards escaped with \), or null.</summary>
    public string? Pattern =>
        string.IsNullOrWhiteSpace(Text)
            ? null
            : "%"
                + Text.Trim()
                    .ToLowerInvariant()
                    .Replace("\\", "\\\\", StringComparison.Ordinal)
                    .Replace("%", "\\%", StringComparison.Ordinal)
                    .Replace("_", "\\_", StringComparison.Ordinal)
                + "%";

    public string? SinceText => Since is { } s ? Storage.Iso.Text(s) : null;

    /// <summary>
    /// The SQL parameters every list query binds (@state, @line, @agent, @since, @pattern, @beforeId, @limit);
    /// only those a query names are bound.
    /// </summary>
    public Storage.SqlArgs Parameters =>
        Storage.SqlArgs.Of(
            new
            {
                state = State,
                line = Line,
                agent = Agent,
                since = SinceText,
                pattern = Pattern,
                beforeId = BeforeId,
                limit = ClampedLimit,
            }
        );

    /// <summary>The id to pass back as the cursor when a page came back full; null on the last page.</summary>
    public long? NextCursor<T>(IReadOnlyList<T> page, Func<T, long> id) =>
        page.Count == ClampedLimit && page.Count > 0 ? id(page[^1]) : null;
}
