using System.Collections.Concurrent;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Signals;

public sealed partial class SignalLedger
{
    /// <summary>How many of the newest open tasks, and of the newest open signals, a new signal is compared with.</summary>
    public const int CandidateLimit = 5000;

    /// <summary>Open work a signal may duplicate: tasks not ended (spec jobs aside: their signal stands for them), signals not yet drafted.</summary>
    private static readonly Sql OpenTasks = new(
        Sqlite: """
        SELECT 'task' AS Kind, t.id AS Id, t.current_version AS Version, t.title AS Title, t.state AS State,
               (SELECT json_extract(s.value, '$.markdown') FROM json_each(v.parsed_json, '$.sections') s
                WHERE json_extract(s.value, '$.key') = 'intent') AS Body
        FROM tasks t JOIN packet_versions v ON v.task_id = t.id AND v.version = t.current_version
        WHERE t.state NOT IN ('shipped', 'no_op', 'cancelled', 'rejected', 'specced') AND t.line <> 'spec' AND t.id > @afterTask
        """,
        PostgreSql: """
        SELECT 'task' AS Kind, t.id AS Id, t.current_version AS Version, t.title AS Title, t.state AS State,
               (SELECT s.value ->> 'markdown' FROM jsonb_array_elements(CAST(v.parsed_json AS jsonb) -> 'sections') AS s (value)
                WHERE s.value ->> 'key' = 'intent') AS Body
        FROM tasks t JOIN packet_versions v ON v.task_id = t.id AND v.version = t.current_version
        WHERE t.state NOT IN ('shipped', 'no_op', 'cancelled', 'rejected', 'specced') AND t.line <> 'spec' AND t.id > @afterTask
        """
    );

    private const string OpenSignals = """
        SELECT 'signal' AS Kind, id AS Id, 0 AS Version, title AS Title, status AS State, body AS Body
        FROM signals WHERE status IN ('new', 'unrouted', 'invalid', 'spec') AND id > @afterSignal
        """;

    // Word sets of candidates, keyed (kind, id, packet version): signals never change, tasks by version.
    private readonly ConcurrentDictionary<(string, long, long), Similarity.Words> wordCache = new();

    private sealed record Candidate
    {
        public required string Kind { get; init; }
        public required long Id { get; init; }
        public required long Version { get; init; }
        public required string Title { get; init; }
        public required string State { get; init; }
        public string? Body { get; init; }
    }

    private sealed record Match(string Kind, long Id, double Score, string Title, string State);

    private sealed record Seen(long Task, long Signal);

    private async Task<(IReadOnlyList<Match> Matches, Seen Seen)> MatchesAsync(
        Similarity.Words words,
        double threshold,
        CancellationToken ct
    )
    {
        var seen = new Seen(
            await db.QuerySingleOrDefaultAsync<long>("SELECT COALESCE(max(id), 0) FROM tasks", ct: ct),
            await db.QuerySingleOrDefaultAsync<long>("SELECT COALESCE(max(id), 0) FROM signals", ct: ct)
        );
        var candidates = (
            await db.QueryAsync<Candidate>(
                $"{OpenTasks.For(db.Engine)} AND t.id <= @maxTask ORDER BY t.id DESC LIMIT {CandidateLimit}",
                SqlArgs.Of(new { afterTask = 0L, maxTask = seen.Task }),
                ct
            )
        ).ToList();
        candidates.AddRange(
            await db.QueryAsync<Candidate>(
                $"{OpenSignals} AND id <= @maxSignal ORDER BY id DESC LIMIT {CandidateLimit}",
                SqlArgs.Of(new { afterSignal = 0L, maxSignal = seen.Signal }),
                ct
            )
        );
        return (Score(words, candidates, threshold), seen);
    }

    private static async Task<IReadOnlyList<Candidate>> CandidatesSinceAsync(LedgerWrite w, Seen seen)
    {
        var list = new List<Candidate>(
            await w.QueryAsync<Candidate>(OpenTasks, SqlArgs.Of(new { afterTask = seen.Task }))
        );
        list.AddRange(await w.QueryAsync<Candidate>(OpenSignals, SqlArgs.Of(new { afterSignal = seen.Signal })));
        return list;
    }

    private List<Match> Score(Similarity.Words words, IEnumerable<Candidate> candidates, double threshold)
    {
        if (wordCache.Count > 4 * CandidateLimit)
            wordCache.Clear();
        var matches = new List<Match>();
        foreach (var c in candidates)
        {
            var theirs = wordCache.GetOrAdd((c.Kind, c.Id, c.Version), _ => Similarity.Of(c.Title, c.Body));
            var score = Similarity.Score(words, theirs);
            if (score >= threshold && score > 0)
                matches.Add(new Match(c.Kind, c.Id, score, c.Title, c.State));
        }
        return matches.OrderByDescending(m => m.Score).ThenBy(m => m.Kind).ThenBy(m => m.Id).ToList();
    }

    /// <summary>Signals not yet turned into work or dismissed that were flagged as possible duplicates: a human should look.</summary>
    public Task<long> FlaggedOpenCountAsync(CancellationToken ct = default) =>
        db.QuerySingleOrDefaultAsync<long>(
            """
            SELECT count(DISTINCT l.signal_id) FROM signal_links l JOIN signals s ON s.id = l.signal_id
            WHERE s.status IN ('new', 'spec', 'unrouted', 'invalid')
               OR (s.status = 'proposed' AND EXISTS (SELECT 1 FROM tasks t WHERE t.signal_id = s.id AND t.state = 'proposed'))
            """,
            ct: ct
        );

    /// <summary>The possible duplicates flagged when the signal arrived, most similar first, with their state now.</summary>
    public async Task<IReadOnlyList<SignalLink>> LinksAsync(long signalId, CancellationToken ct = default) =>
        (
            await db.QueryAsync<SignalLink>(
                """
                SELECT l.signal_id AS SignalId, l.related_kind AS RelatedKind, l.related_id AS RelatedId, l.similarity AS Similarity,
                       COALESCE(t.title, s.title, '') AS Title, COALESCE(t.state, s.status, '') AS State
                FROM signal_links l
                LEFT JOIN tasks t ON l.related_kind = 'task' AND t.id = l.related_id
                LEFT JOIN signals s ON l.related_kind = 'signal' AND s.id = l.related_id
                WHERE l.signal_id = @signalId ORDER BY l.similarity DESC, l.related_kind, l.related_id
                """,
                SqlArgs.Of(new { signalId }),
                ct
            )
        ).ToList();

    /// <summary>Newer signals flagged as possible duplicates of a task or a signal (the other direction of <see cref="LinksAsync"/>).</summary>
    public async Task<IReadOnlyList<SignalLink>> LinkedFromAsync(
        string kind,
        long id,
        CancellationToken ct = default
    ) =>
        (
            await db.QueryAsync<SignalLink>(
                """
                SELECT l.signal_id AS SignalId, 'signal' AS RelatedKind, l.signal_id AS RelatedId, l.similarity AS Similarity,
                       s.title AS Title, s.status AS State
                FROM signal_links l JOIN signals s ON s.id = l.signal_id
                WHERE l.related_kind = @kind AND l.related_id = @id ORDER BY l.similarity DESC, l.signal_id
                """,
                SqlArgs.Of(new { kind, id }),
                ct
            )
        ).ToList();

    /// <summary>
    /// Open tasks and signals related to a signal now, for its spec job: the flagged duplicates, then
    /// whatever else scores at least <paramref name="minimum"/>, most similar first, at most <paramref name="limit"/>.
    /// </summary>
    public async Task<IReadOnlyList<SignalLink>> RelatedAsync(
        SignalRow signal,
        double minimum,
        int limit,
        CancellationToken ct = default
    )
    {
        var flagged = await LinksAsync(signal.Id, ct);
        var (matches, _) = await MatchesAsync(Similarity.Of(signal.Title, signal.Body), minimum, ct);
        var related = flagged.ToList();
        foreach (var m in matches.Where(m => !(m.Kind == "signal" && m.Id == signal.Id)))
        {
            if (related.Any(r => r.RelatedKind == m.Kind && r.RelatedId == m.Id))
                continue;
            // The spec job's own signal and the tasks made from it are not "related": they are it.
            if (
                m.Kind == "task"
                && await db.QuerySingleOrDefaultAsync<long?>(
                    "SELECT signal_id FROM tasks WHERE id = @Id",
                    SqlArgs.Of(new { m.Id }),
                    ct
                ) == signal.Id
            )
                continue;
            related.Add(
                new SignalLink
                {
                    SignalId = signal.Id,
                    RelatedKind = m.Kind,
                    RelatedId = m.Id,
                    Similarity = Math.Round(m.Score, 4),
                    Title = m.Title,
                    State = m.State,
                    Flagged = false,
                }
            );
        }
        return related.Take(limit).ToList();
    }
}
