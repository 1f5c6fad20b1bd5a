using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Signals;

/// <summary>Signals, deduplicated on (source, external id): recording the same signal twice adds nothing.</summary>
public sealed partial class SignalLedger(LedgerDatabase db)
{
    public async Task<SignalRow> GetAsync(long signalId, CancellationToken ct = default) =>
        await db.QuerySingleOrDefaultAsync<SignalRow>(
            SignalRow.Select + " WHERE id = @signalId",
            SqlArgs.Of(new { signalId }),
            ct
        ) ?? throw new LedgerException($"There is no signal {signalId}.");

    public Task<SignalRow?> FindAsync(string source, string externalId, CancellationToken ct = default) =>
        db.QuerySingleOrDefaultAsync<SignalRow>(
            SignalRow.Select + " WHERE source = @source AND external_id = @externalId",
            SqlArgs.Of(new { source, externalId }),
            ct
        );

    /// <summary>
    /// Inside the transaction that proposes its task: moves the signal from new to proposed, refusing a
    /// signal already drafted (two intakes racing on one signal make one task).
    /// </summary>
    internal static async Task MarkDraftedAsync(LedgerWrite w, long signalId)
    {
        var changed = await w.ExecuteAsync(
            "UPDATE signals SET status = @proposed, status_reason = NULL WHERE id = @signalId AND status IN ('new', 'unrouted', 'invalid')",
            SqlArgs.Of(new { proposed = SignalStatuses.Proposed, signalId })
        );
        if (changed != 1)
            throw new LedgerException(
                $"Signal {signalId} was already drafted into a task (or set aside); nothing was added."
            );
        await w.AuditAsync(
            "signal.drafted",
            "signal",
            signalId,
            new JsonObject { ["status"] = SignalStatuses.Proposed }
        );
    }

    /// <summary>Inside the transaction that makes its spec job: the signal waits for the spec agent's answer.</summary>
    internal static async Task MarkSpecAsync(LedgerWrite w, long signalId, long specTaskId, string target)
    {
        var changed = await w.ExecuteAsync(
            "UPDATE signals SET status = @spec, status_reason = @reason WHERE id = @signalId AND status IN ('new', 'unrouted', 'invalid', 'spec')",
            SqlArgs.Of(
                new
                {
                    spec = SignalStatuses.Spec,
                    reason = $"spec job task {specTaskId} for {target}",
                    signalId,
                }
            )
        );
        if (changed != 1)
            throw new LedgerException($"Signal {signalId} was drafted or dismissed meanwhile; nothing was added.");
        await w.AuditAsync(
            "signal.spec",
            "signal",
            signalId,
            new JsonObject
            {
                ["status"] = SignalStatuses.Spec,
                ["task_id"] = specTaskId,
                ["target"] = target,
            }
        );
    }

    /// <summary>Inside the transaction that stores a spec job's proposal: the signal is drafted into it.</summary>
    internal static async Task MarkAnsweredAsync(LedgerWrite w, long signalId, long proposalTaskId, long specRunId)
    {
        var changed = await w.ExecuteAsync(
            "UPDATE signals SET status = @proposed, status_reason = NULL WHERE id = @signalId AND status = @spec",
            SqlArgs.Of(
                new
                {
                    proposed = SignalStatuses.Proposed,
                    spec = SignalStatuses.Spec,
                    signalId,
                }
            )
        );
        if (changed != 1)
            throw new LedgerException(
                $"Signal {signalId} is no longer waiting for a spec (it was drafted or dismissed); nothing was added."
            );
        await w.AuditAsync(
            "signal.drafted",
            "signal",
            signalId,
            new JsonObject
            {
                ["status"] = SignalStatuses.Proposed,
                ["task_id"] = proposalTaskId,
                ["spec_run_id"] = specRunId,
            }
        );
    }

    /// <summary>Inside the transaction of a spec job's NO_OP: the signal is closed with the reason.</summary>
    internal static async Task DismissAsync(LedgerWrite w, long signalId, string reason)
    {
        var changed = await w.ExecuteAsync(
            "UPDATE signals SET status = @dismissed, status_reason = @reason WHERE id = @signalId AND status = @spec",
            SqlArgs.Of(
                new
                {
                    dismissed = SignalStatuses.Dismissed,
                    reason,
                    spec = SignalStatuses.Spec,
                    signalId,
                }
            )
        );
        if (changed == 1)
            await w.AuditAsync(
                "signal.dismissed",
                "signal",
                signalId,
                new JsonObject { ["status"] = SignalStatuses.Dismissed, ["reason"] = reason }
            );
    }

    /// <summary>
    /// Keeps a signal that made no task, with the reason (unrouted or invalid). A signal already drafted is
    /// left alone; an unchanged status and reason write nothing. Returns the row.
    /// </summary>
    public async Task<SignalRow> SetAsideAsync(
        string actor,
        long signalId,
        string status,
        string reason,
        CancellationToken ct = default
    )
    {
        if (status is not (SignalStatuses.Unrouted or SignalStatuses.Invalid))
            throw new ArgumentException($"'{status}' is not a set-aside status.", nameof(status));
        return await db.WriteAsync(
            actor,
            async w =>
            {
                var changed = await w.ExecuteAsync(
                    """
                    UPDATE signals SET status = @status, status_reason = @reason
                    WHERE id = @signalId AND status IN ('new', 'unrouted', 'invalid') AND NOT (status = @status AND status_reason IS NOT NULL AND status_reason = @reason)
                    """,
                    SqlArgs.Of(
                        new
                        {
                            status,
                            reason,
                            signalId,
                        }
                    )
                );
                if (changed == 1)
                    await w.AuditAsync(
                        "signal." + status,
                        "signal",
                        signalId,
                        new JsonObject { ["status"] = status, ["reason"] = reason }
                    );
                return (
                    await w.SingleOrDefaultAsync<SignalRow>(
                        SignalRow.Select + " WHERE id = @signalId",
                        SqlArgs.Of(new { signalId })
                    )
                )!;
            },
            ct
        );
    }

    /// <summary>Notes why a drafted signal's proposal still waits for a human (an auto-approve line that could not approve it).</summary>
    public async Task NoteAsync(string actor, long signalId, string note, CancellationToken ct = default)
    {
        await db.WriteAsync(
            actor,
            async w =>
            {
                await w.ExecuteAsync(
                    "UPDATE signals SET status_reason = @note WHERE id = @signalId",
                    SqlArgs.Of(new { note, signalId })
                );
                await w.AuditAsync("signal.noted", "signal", signalId, new JsonObject { ["note"] = note });
            },
            ct
        );
    }

    /// <summary>Signals, newest first, optionally by status.</summary>
    public async Task<IReadOnlyList<SignalRow>> ListAsync(
        string? status,
        int limit = 100,
        CancellationToken ct = default
    ) =>
        (
            await db.QueryAsync<SignalRow>(
                SignalRow.Select + " WHERE (@status IS NULL OR status = @status) ORDER BY id DESC LIMIT @limit",
                SqlArgs.Of(new { status, limit = Math.Clamp(limit, 1, 1000) }),
                ct
            )
        ).ToList();

    /// <summary>
    /// Records a signal once. Returns the stored row and whether this call created it. A new signal is
    /// compared with every open task and signal (<see cref="Similarity"/>); those scoring at least
    /// <paramref name="threshold"/> are linked to it in the same transaction, flagged for a human, and it
    /// is recorded all the same: a possible duplicate is never dropped.
    /// </summary>
    public async Task<(SignalRow Signal, bool Created)> RecordAsync(
        string actor,
        SignalInput input,
        double threshold = Similarity.DefaultThreshold,
        CancellationToken ct = default
    )
    {
        if (string.IsNullOrWhiteSpace(input.Source) || string.IsNullOrWhiteSpace(input.ExternalId))
            throw new LedgerException(
                "A signal needs a source and an external id (for example github and acme/billing#123)."
            );
        if (string.IsNullOrWhiteSpace(input.Title))
            throw new LedgerException($"Signal {input.Source}:{input.ExternalId} has no title.");
        if (await FindAsync(input.Source, input.ExternalId, ct) is { } known)
            return (known, false);

        // Compared outside the write (reading and tokenizing open work takes a while); whatever was
        // recorded between that read and the write is compared inside it, so no duplicate slips through.
        var words = Similarity.Of(input.Title, input.Body);
        var (matches, seen) = await MatchesAsync(words, threshold, ct);
        return await db.WriteAsync(
            actor,
            async w =>
            {
                var existing = await w.SingleOrDefaultAsync<SignalRow>(
                    SignalRow.Select + " WHERE source = @Source AND external_id = @ExternalId",
                    SqlArgs.Of(new { input.Source, input.ExternalId })
                );
                if (existing is not null)
                    return (existing, false);
                var late = Score(words, await CandidatesSinceAsync(w, seen), threshold);
                var id = await w.ScalarAsync<long>(
                    """
                    INSERT INTO signals (source, external_id, title, body, url, labels_json, author, created_at, received_at, details_json)
                    VALUES (@Source, @ExternalId, @Title, @Body, @Url, @labels, @Author, @created, @now, @DetailsJson)
                    RETURNING id
                    """,
                    SqlArgs.Of(
                        new
                        {
                            input.Source,
                            input.ExternalId,
                            input.Title,
                            Body = input.Body ?? "",
                            input.Url,
                            labels = Json.Strings(input.Labels),
                            input.Author,
                            created = input.CreatedAt is { } c ? Iso.Text(c) : null,
                            now = w.NowText,
                            input.DetailsJson,
                        }
                    )
                );
                var links = matches.Concat(late).ToList();
                foreach (var link in links)
                {
                    await w.ExecuteAsync(
                        """
                        INSERT INTO signal_links (signal_id, related_kind, related_id, similarity, created_at) VALUES (@signalId, @kind, @relatedId, @Score, @now)
                        """,
                        // Parameter names differ in more than case: Npgsql matches them case-insensitively.
                        SqlArgs.Of(
                            new
                            {
                                signalId = id,
                                kind = link.Kind,
                                relatedId = link.Id,
                                Score = Math.Round(link.Score, 4),
                                now = w.NowText,
                            }
                        )
                    );
                }
                await w.AuditAsync(
                    "signal.recorded",
                    "signal",
                    id,
                    new JsonObject
                    {
                        ["source"] = input.Source,
                        ["external_id"] = input.ExternalId,
                        ["title"] = input.Title,
                        ["url"] = input.Url,
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
                    }
                );
                return (
                    (
                        await w.SingleOrDefaultAsync<SignalRow>(
                            SignalRow.Select + " WHERE id = @id",
                            SqlArgs.Of(new { id })
                        )
                    )!,
                    true
                );
            },
            ct
        );
    }
}
