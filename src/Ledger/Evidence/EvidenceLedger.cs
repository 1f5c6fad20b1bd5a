using System.Text;
using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Claims;
using FactoryMcp.Ledger.Idempotency;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Evidence;

/// <summary>
/// Evidence on a run: an agent's claims (record_evidence: the rule for that tool is
/// <see cref="RecordEvidenceAsync"/>) and what the server observed itself (origin <c>server</c>).
/// </summary>
public sealed class EvidenceLedger(LedgerDatabase db, RunLedger runs, TaskLedger tasks, LeaseSweeper leases)
{
    /// <summary>Inline evidence content above this size goes to the blob store instead.</summary>
    public const int InlineLimit = 16 * 1024;
    public const int MaxContentBytes = 1024 * 1024;
    public const long MaxFileBytes = 10L * 1024 * 1024;
    public const int MaxSummaryChars = 2000;

    /// <summary>
    /// Attaches an agent's claim to the run it holds and renews the lease. A <c>file</c> must resolve
    /// inside the workspace; its bytes go to the blob store.
    /// </summary>
    public async Task<EvidenceReceipt> RecordEvidenceAsync(
        Caller caller,
        EvidenceInput input,
        LineCatalog lines,
        string? idempotencyKey = null,
        CancellationToken ct = default
    )
    {
        if (caller.Role != Roles.Agent)
            throw new LedgerException("Only the builder holding a run records evidence on it.");
        var kind = (input.Kind ?? "").Trim().ToLowerInvariant();
        if (string.IsNullOrWhiteSpace(input.Summary))
            throw new LedgerException("`summary` is empty; say in a sentence what this evidence shows.");
        if (input.Summary.Length > MaxSummaryChars)
            throw new LedgerException(
                $"`summary` is {input.Summary.Length} characters; keep it under {MaxSummaryChars} and put the rest in `content`."
            );
        if (input.Stage is { } stage && !Stages.All.Contains(stage))
            throw new LedgerException($"Stage '{stage}' is not one of {string.Join(", ", Stages.All)}.");
        if (input.Content is not null && input.File is not null)
            throw new LedgerException("Give either `content` or `file`, not both.");
        if (input.Content is { } c && Encoding.UTF8.GetByteCount(c) > MaxContentBytes)
            throw new LedgerException(
                $"`content` is {Encoding.UTF8.GetByteCount(c)} bytes; the limit is {MaxContentBytes}. Write it to a file in your workspace and pass `file`, or attach an excerpt."
            );

        await leases.SweepIfDueAsync(ct);
        string? blobSha = null;
        long? blobBytes = null;
        string? inline = input.Content;
        string? fileName = null;
        var blobs = new BlobStore(db.Paths);
        if (input.File is { } file)
        {
            // Read phase: ownership, the kind and the workspace, before any file is read.
            var run = await runs.GetAsync(input.RunId, ct);
            if (run.AgentId != caller.AgentId)
                throw new LedgerException(
                    $"Run {input.RunId} belongs to {run.AgentName}, not {caller.Name}; you may act only on the run you hold."
                );
            var task = await tasks.GetAsync(run.TaskId, ct);
            RequireKnownKind(kind, input.Kind, task, RunLedger.SettingsOf(task), lines);
            if (run.Workspace is null)
                throw new LedgerException($"Run {run.Id} has no workspace yet.");
            var bytes = WorkspaceFile.Read(run.Workspace, file, MaxFileBytes);
            blobSha = blobs.Put(bytes);
            blobBytes = bytes.Length;
            fileName = Path.GetFileName(file);
        }
        else if (inline is not null && Encoding.UTF8.GetByteCount(inline) > InlineLimit)
        {
            // Content-addressed: a blob left by a refused write is harmless and found again by a retry.
            var bytes = Encoding.UTF8.GetBytes(inline);
            blobSha = blobs.Put(bytes);
            blobBytes = bytes.Length;
            inline = null;
        }

        // Without a file, ownership and the kind are checked inside the write itself (a refusal rolls it
        // back): two reads and two connections fewer on the agents' most frequent write.
        try
        {
            return await WriteEvidenceAsync(
                caller,
                input,
                lines,
                idempotencyKey,
                kind,
                inline,
                blobSha,
                blobBytes,
                fileName,
                ct
            );
        }
        catch (RunLedger.LeaseLapsedException)
        {
            // The lease ran out since the last sweep: expire it now; the retry then refuses with the expiry.
            await leases.SweepExpiredAsync(ct);
            return await WriteEvidenceAsync(
                caller,
                input,
                lines,
                idempotencyKey,
                kind,
                inline,
                blobSha,
                blobBytes,
                fileName,
                ct
            );
        }
    }

    private Task<EvidenceReceipt> WriteEvidenceAsync(
        Caller caller,
        EvidenceInput input,
        LineCatalog lines,
        string? idempotencyKey,
        string kind,
        string? inline,
        string? blobSha,
        long? blobBytes,
        string? fileName,
        CancellationToken ct
    ) =>
        db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var argsHash = idempotencyKey is null
                    ? ""
                    : IdempotencyKeys.HashArguments(input, Audit.CanonicalLedgerJson.Default.EvidenceInput);
                if (
                    idempotencyKey is not null
                    && await IdempotencyKeys.FindAsync<EvidenceReceipt>(
                        w,
                        caller,
                        "record_evidence",
                        idempotencyKey,
                        argsHash,
                        LedgerJson.Default.EvidenceReceipt
                    )
                        is { } earlier
                )
                    return earlier;
                var (held, taskRow) = await RunLedger.RequireHeldWithTaskAsync(w, caller, input.RunId);
                var settings = RunLedger.SettingsOf(taskRow);
                RequireKnownKind(kind, input.Kind, taskRow, settings, lines);
                var evidenceId = Convert.ToInt64(
                    await w.ScalarPreparedAsync(
                        InsertAgentEvidence,
                        ("runId", held.Id),
                        ("kind", kind),
                        ("stage", input.Stage),
                        ("summary", input.Summary),
                        ("content", inline),
                        ("blobSha", blobSha),
                        ("blobBytes", blobBytes),
                        ("fileName", fileName),
                        ("actor", caller.Name),
                        ("now", w.NowText)
                    ),
                    System.Globalization.CultureInfo.InvariantCulture
                );
                if (input.Stage is { } s)
                {
                    var last = await w.SingleOrDefaultAsync<string>(
                        "SELECT stage FROM stages WHERE run_id = @runId ORDER BY id DESC LIMIT 1",
                        SqlArgs.Of(new { runId = held.Id })
                    );
                    if (last != s)
                        await w.ExecuteAsync(
                            "INSERT INTO stages (run_id, stage, at) VALUES (@runId, @s, @now)",
                            SqlArgs.Of(
                                new
                                {
                                    runId = held.Id,
                                    s,
                                    now = w.NowText,
                                }
                            )
                        );
                }
                if (kind == EvidenceKinds.PostRunNote)
                    await Lessons.LessonLedger.AddFeedbackAsync(
                        w,
                        held.TaskId,
                        held.Id,
                        "post_run_note",
                        input.Content is { Length: > 0 } note ? $"{input.Summary}\n{note}" : input.Summary,
                        caller.Name
                    );
                await w.AuditAsync(
                    "evidence.recorded",
                    "run",
                    held.Id,
                    new JsonObject
                    {
                        ["evidence_id"] = evidenceId,
                        ["kind"] = kind,
                        ["origin"] = Origins.Agent,
                        ["stage"] = input.Stage,
                        ["blob_sha"] = blobSha,
                    }
                );
                var lease = await RunLedger.RenewLeaseAsync(w, held, settings);
                var present = new List<string>();
                await using (
                    var reader = await w.Prepared(
                            PresentRequiredKinds.For(w.Engine),
                            ("kinds", Json.Strings(settings.EvidenceRequired)),
                            ("runId", held.Id)
                        )
                        .ExecuteReaderAsync(w.Cancellation)
                )
                    while (await reader.ReadAsync(w.Cancellation))
                        present.Add(reader.GetString(0));
                var receipt = new EvidenceReceipt(
                    evidenceId,
                    held.Id,
                    kind,
                    blobSha,
                    settings.MissingEvidence(present),
                    lease is { } until ? Iso.Text(until) : ""
                );
                if (idempotencyKey is not null)
                    await IdempotencyKeys.StoreAsync(
                        w,
                        caller,
                        "record_evidence",
                        idempotencyKey,
                        argsHash,
                        receipt,
                        LedgerJson.Default.EvidenceReceipt
                    );
                return receipt;
            },
            ct
        );

    private const string InsertAgentEvidence = """
        INSERT INTO evidence (run_id, kind, origin, stage, summary, content, blob_sha, blob_bytes, file_name, created_by, created_at)
        VALUES (@runId, @kind, 'agent', @stage, @summary, @content, @blobSha, @blobBytes, @fileName, @actor, @now)
        RETURNING id
        """;

    /// <summary>A run's evidence, every origin, oldest first.</summary>
    public async Task<IReadOnlyList<EvidenceRow>> ForRunAsync(long runId, CancellationToken ct = default) =>
        (
            await db.QueryAsync<EvidenceRow>(
                EvidenceRow.Select + " WHERE run_id = @runId ORDER BY id",
                SqlArgs.Of(new { runId }),
                ct
            )
        ).ToList();

    /// <summary>Which of the required kinds (@kinds, a JSON array) the run (@runId) holds: one index seek per kind, not a walk over its evidence.</summary>
    private static readonly Sql PresentRequiredKinds = new(
        Sqlite: """
        SELECT k.value FROM json_each(@kinds) k
        WHERE EXISTS (SELECT 1 FROM evidence e WHERE e.run_id = @runId AND e.kind = k.value)
        """,
        PostgreSql: """
        SELECT k.value FROM jsonb_array_elements_text(CAST(@kinds AS jsonb)) AS k (value)
        WHERE EXISTS (SELECT 1 FROM evidence e WHERE e.run_id = @runId AND e.kind = k.value)
        """
    );

    /// <summary>The required evidence kinds the run does not hold yet, in the order the settings list them.</summary>
    public async Task<IReadOnlyList<string>> MissingEvidenceAsync(
        long runId,
        TaskSettings settings,
        CancellationToken ct = default
    ) =>
        settings.MissingEvidence(
            await db.ReadPreparedAsync(
                async c =>
                {
                    var present = new List<string>();
                    await using var reader = await c.Bind(
                            PresentRequiredKinds.For(db.Engine),
                            null,
                            ("kinds", Json.Strings(settings.EvidenceRequired)),
                            ("runId", runId)
                        )
                        .ExecuteReaderAsync(ct);
                    while (await reader.ReadAsync(ct))
                        present.Add(reader.GetString(0));
                    return present;
                },
                ct
            )
        );

    private static void RequireKnownKind(
        string kind,
        string? given,
        TaskRow task,
        TaskSettings settings,
        LineCatalog lines
    )
    {
        var known = lines.EvidenceKindsFor(task.Line);
        if (EvidenceKinds.IsWellFormed(kind) && (known.Contains(kind) || settings.EvidenceRequired.Contains(kind)))
            return;
        var kinds = known.Union(settings.EvidenceRequired, StringComparer.Ordinal).Order();
        throw new LedgerException(
            $"Evidence kind '{given}' is not known on line {task.Line}; use one of {string.Join(", ", kinds)}."
        );
    }

    /// <summary>Records one piece of server-observed evidence on a run in its own transaction (publishing, drain sessions).</summary>
    public Task<long> RecordServerEvidenceAsync(long runId, ServerEvidence item, CancellationToken ct = default) =>
        db.WriteAsync(
            "server",
            w =>
                AddServerEvidenceAsync(
                    w,
                    runId,
                    item.Kind,
                    item.Summary,
                    item.Content,
                    item.BlobSha,
                    item.BlobBytes,
                    item.Stage
                ),
            ct
        );

    /// <summary>Evidence the server observed itself (diff, validation output). Origin <c>server</c>.</summary>
    public static async Task<long> AddServerEvidenceAsync(
        LedgerWrite w,
        long runId,
        string kind,
        string summary,
        string? content,
        string? blobSha,
        long? blobBytes,
        string? stage = null
    )
    {
        var id = await w.ScalarAsync<long>(
            """
            INSERT INTO evidence (run_id, kind, origin, stage, summary, content, blob_sha, blob_bytes, created_by, created_at)
            VALUES (@runId, @kind, 'server', @stage, @summary, @content, @blobSha, @blobBytes, 'server', @now)
            RETURNING id
            """,
            SqlArgs.Of(
                new
                {
                    runId,
                    kind,
                    stage,
                    summary,
                    content,
                    blobSha,
                    blobBytes,
                    now = w.NowText,
                }
            )
        );
        await w.AuditAsync(
            "evidence.observed",
            "run",
            runId,
            new JsonObject
            {
                ["evidence_id"] = id,
                ["kind"] = kind,
                ["origin"] = Origins.Server,
                ["blob_sha"] = blobSha,
            }
        );
        return id;
    }
}
