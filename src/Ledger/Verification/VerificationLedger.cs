using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Claims;
using FactoryMcp.Ledger.Escalations;
using FactoryMcp.Ledger.Lessons;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Runs;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Tasks;

namespace FactoryMcp.Ledger.Verification;

/// <summary>
/// Blind verification: one verdict per required role on an accepted run, each role claimed under a
/// lease by a verifier who never built the task. Precedence once every role has spoken: any
/// needs_human escalates; else any reject sends the task back for rework; all approve moves it on.
/// </summary>
public sealed class VerificationLedger(LedgerDatabase db)
{
    public async Task<VerificationClaim?> ClaimAsync(Caller caller, CancellationToken ct = default)
    {
        if (caller.Role != Roles.Verifier || string.IsNullOrEmpty(caller.VerifierRole))
            throw new LedgerException("Only a registered verifier (with a verifier role) claims verification work.");
        await SweepAsync(ct);
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var held = await w.SingleOrDefaultAsync<VerificationRow>(
                    VerificationRow.Select + " WHERE agent_id = @agentId AND state = 'claimed' ORDER BY id LIMIT 1",
                    SqlArgs.Of(new { agentId = caller.AgentId })
                );
                if (held is not null)
                    return await ClaimOfAsync(w, "resumed", held);

                var runId = await w.SingleOrDefaultAsync<long?>(
                    PickForVerifier,
                    SqlArgs.Of(new { role = caller.VerifierRole, agentId = caller.AgentId })
                );
                if (runId is not { } id)
                    return null;
                var run = (
                    await w.SingleOrDefaultAsync<RunRow>(RunRow.Select + " WHERE r.id = @id", SqlArgs.Of(new { id }))
                )!;
                var task = await TaskLedger.RequireAsync(w, run.TaskId);
                var until = w.Now.AddMinutes(RunLedger.SettingsOf(task).LeaseMinutes);
                var verificationId = await w.ScalarAsync<long>(
                    """
                    INSERT INTO verifications (run_id, role, agent_id, state, lease_expires_at, claimed_at) VALUES (@id, @role, @agentId, 'claimed', @until, @now) RETURNING id
                    """,
                    SqlArgs.Of(
                        new
                        {
                            id,
                            role = caller.VerifierRole,
                            agentId = caller.AgentId,
                            until = Iso.Text(until),
                            now = w.NowText,
                        }
                    )
                );
                await w.AuditAsync(
                    "verification.claimed",
                    "run",
                    id,
                    new JsonObject
                    {
                        ["verification_id"] = verificationId,
                        ["role"] = caller.VerifierRole,
                        ["verifier"] = caller.Name,
                    }
                );
                return await ClaimOfAsync(
                    w,
                    "claimed",
                    (
                        await w.SingleOrDefaultAsync<VerificationRow>(
                            VerificationRow.Select + " WHERE id = @verificationId",
                            SqlArgs.Of(new { verificationId })
                        )
                    )!
                );
            },
            ct
        );
    }

    private static async Task<VerificationClaim> ClaimOfAsync(
        LedgerWrite w,
        string status,
        VerificationRow verification
    )
    {
        var run = (
            await w.SingleOrDefaultAsync<RunRow>(
                RunRow.Select + " WHERE r.id = @id",
                SqlArgs.Of(new { id = verification.RunId })
            )
        )!;
        return new VerificationClaim(status, verification, run, await TaskLedger.RequireAsync(w, run.TaskId));
    }

    public Task SetCheckoutAsync(long verificationId, string checkout, CancellationToken ct = default) =>
        db.WriteAsync(
            "server:verification",
            w =>
                w.ExecuteAsync(
                    "UPDATE verifications SET checkout = @checkout WHERE id = @verificationId",
                    SqlArgs.Of(new { checkout, verificationId })
                ),
            ct
        );

    /// <summary>The next accepted run waiting for the caller's verifier role that it did not build (PostgreSQL locks it, skipping runs another claim holds).</summary>
    private static readonly Sql PickForVerifier = new(
        Sqlite: """
        SELECT r.id FROM runs r JOIN tasks t ON t.id = r.task_id
        WHERE t.state = 'awaiting_verification' AND r.state = 'accepted'
          AND EXISTS (SELECT 1 FROM json_each(t.settings_json, '$.verifiers') j WHERE j.value = @role)
          AND NOT EXISTS (SELECT 1 FROM verdicts v WHERE v.run_id = r.id AND v.role = @role)
          AND NOT EXISTS (SELECT 1 FROM verifications x WHERE x.run_id = r.id AND x.role = @role AND x.state = 'claimed')
          AND NOT EXISTS (SELECT 1 FROM runs b WHERE b.task_id = t.id AND b.agent_id = @agentId)
        ORDER BY t.priority, r.accepted_at, r.id
        LIMIT 1
        """,
        PostgreSql: """
        SELECT r.id FROM runs r JOIN tasks t ON t.id = r.task_id
        WHERE t.state = 'awaiting_verification' AND r.state = 'accepted'
          AND EXISTS (SELECT 1 FROM jsonb_array_elements_text(CAST(t.settings_json AS jsonb) -> 'verifiers') AS j (value) WHERE j.value = @role)
          AND NOT EXISTS (SELECT 1 FROM verdicts v WHERE v.run_id = r.id AND v.role = @role)
          AND NOT EXISTS (SELECT 1 FROM verifications x WHERE x.run_id = r.id AND x.role = @role AND x.state = 'claimed')
          AND NOT EXISTS (SELECT 1 FROM runs b WHERE b.task_id = t.id AND b.agent_id = @agentId)
        ORDER BY t.priority, r.accepted_at, r.id
        LIMIT 1
        FOR UPDATE OF r SKIP LOCKED
        """
    );

    /// <summary>Gives back a claim whose checkout could not be prepared (not the verifier's fault).</summary>
    public Task ReleaseAsync(long verificationId, CancellationToken ct = default) =>
        db.WriteAsync(
            "server:verification",
            async w =>
            {
                await w.ExecuteAsync(
                    "UPDATE verifications SET state = 'cancelled', closed_at = @now WHERE id = @verificationId AND state = 'claimed'",
                    SqlArgs.Of(new { now = w.NowText, verificationId })
                );
                await w.AuditAsync("verification.released", "verification", verificationId, new JsonObject());
            },
            ct
        );

    public async Task<VerdictReceipt> SubmitVerdictAsync(
        Caller caller,
        long runId,
        string verdict,
        string findings,
        CancellationToken ct = default
    )
    {
        if (caller.Role != Roles.Verifier)
            throw new LedgerException("Only a verifier submits verdicts.");
        verdict = (verdict ?? "").Trim().ToLowerInvariant();
        if (!VerifierVerdicts.All.Contains(verdict))
            throw new LedgerException($"Verdict '{verdict}' is not one of {string.Join(", ", VerifierVerdicts.All)}.");
        if (string.IsNullOrWhiteSpace(findings))
            throw new LedgerException(
                "`findings` is empty: say what you checked and what you found, even when you approve."
            );
        if (findings.Length > 20_000)
            throw new LedgerException("`findings` is over 20,000 characters; summarize.");
        await SweepAsync(ct);
        return await db.WriteAsync(
            caller.Actor,
            async w =>
            {
                var claim = await w.SingleOrDefaultAsync<VerificationRow>(
                    VerificationRow.Select + " WHERE run_id = @runId AND agent_id = @agentId ORDER BY id DESC LIMIT 1",
                    SqlArgs.Of(new { runId, agentId = caller.AgentId })
                );
                if (claim is null)
                    throw new LedgerException(
                        $"You hold no verification of run {runId}. get_task_packet claims the next run awaiting your role."
                    );
                if (claim.State == "expired")
                    throw new LedgerException(
                        $"Your claim on run {runId} expired and the run went back to the queue; nothing was recorded. Call get_task_packet again."
                    );
                if (claim.State != "claimed")
                    throw new LedgerException(
                        $"Your verification of run {runId} is {claim.State}; a verdict can be submitted once."
                    );
                var run = (
                    await w.SingleOrDefaultAsync<RunRow>(
                        RunRow.Select + " WHERE r.id = @runId",
                        SqlArgs.Of(new { runId })
                    )
                )!;
                var task = await TaskLedger.RequireAsync(w, run.TaskId);
                var verdictId = await w.ScalarAsync<long>(
                    """
                    INSERT INTO verdicts (run_id, verification_id, role, agent_id, verdict, findings, created_at) VALUES (@runId, @claimId, @role, @agentId, @verdict, @findings, @now) RETURNING id
                    """,
                    SqlArgs.Of(
                        new
                        {
                            runId,
                            claimId = claim.Id,
                            role = claim.Role,
                            agentId = caller.AgentId,
                            verdict,
                            findings,
                            now = w.NowText,
                        }
                    )
                );
                await w.ExecuteAsync(
                    "UPDATE verifications SET state = 'submitted', closed_at = @now WHERE id = @id",
                    SqlArgs.Of(new { now = w.NowText, id = claim.Id })
                );
                await LessonLedger.AddFeedbackAsync(
                    w,
                    task.Id,
                    runId,
                    "finding",
                    $"[{claim.Role} {verdict}] {findings}",
                    caller.Name
                );
                await w.AuditAsync(
                    "verdict.submitted",
                    "run",
                    runId,
                    new JsonObject
                    {
                        ["verdict_id"] = verdictId,
                        ["role"] = claim.Role,
                        ["verdict"] = verdict,
                        ["verifier"] = caller.Name,
                    }
                );

                var required = RunLedger.SettingsOf(task).Verifiers.Distinct().ToList();
                var verdicts = await w.QueryAsync<VerdictRow>(
                    VerdictRow.Select + " WHERE v.run_id = @runId",
                    SqlArgs.Of(new { runId })
                );
                if (task.State != TaskStates.AwaitingVerification || required.Any(r => verdicts.All(v => v.Role != r)))
                    return new VerdictReceipt(
                        verdictId,
                        runId,
                        claim.Role,
                        verdicts.Count,
                        required.Count,
                        task.State,
                        $"Verdict recorded; {verdicts.Count} of {required.Count} roles have spoken."
                    );
                var (state, message) =
                    await Pulls.PullVerificationLedger.FinishAsync(w, run, task, verdicts)
                    ?? await DecideAsync(w, run, task, verdicts);
                return new VerdictReceipt(verdictId, runId, claim.Role, verdicts.Count, required.Count, state, message);
            },
            ct
        );
    }

    private static async Task<(string State, string Message)> DecideAsync(
        LedgerWrite w,
        RunRow run,
        TaskRow task,
        IReadOnlyList<VerdictRow> verdicts
    )
    {
        var human = verdicts.Where(v => v.Verdict == VerifierVerdicts.NeedsHuman).ToList();
        if (human.Count > 0)
        {
            await EscalationLedger.RaiseAsync(
                w,
                task.Id,
                run.Id,
                $"Verifier(s) {string.Join(", ", human.Select(v => v.Role))} asked for a human on run {run.Id}: {string.Join(" | ", human.Select(v => v.Findings))}"
            );
            return (
                TaskStates.Escalated,
                "Every role has spoken; a verifier asked for a human, so the task is escalated."
            );
        }
        var rejects = verdicts.Where(v => v.Verdict == VerifierVerdicts.Reject).ToList();
        if (rejects.Count > 0)
        {
            var state = await Requeue.ForReworkAsync(
                w,
                run,
                task,
                $"verifier(s) {string.Join(", ", rejects.Select(v => v.Role))}",
                string.Join("\n\n", rejects.Select(v => $"{v.Role}: {v.Findings}"))
            );
            return (
                state,
                state == TaskStates.Ready
                    ? "Every role has spoken; rejected, so the task goes back to its builder for rework."
                    : "Every role has spoken; rejected, and max_reworks is reached, so the task is escalated."
            );
        }
        // A run the gate flagged for a human (a benchmark too noisy to tell) goes to review whatever the line says.
        var flagged = await w.ScalarAsync<string?>(
            "SELECT review_reason FROM runs WHERE id = @id",
            SqlArgs.Of(new { id = run.Id })
        );
        var next =
            RunLedger.SettingsOf(task).RequireReview || flagged is not null
                ? TaskStates.AwaitingReview
                : TaskStates.Approved;
        await StateMachine.MoveTaskAsync(
            w,
            task.Id,
            next,
            "task.verified",
            new JsonObject { ["run_id"] = run.Id, ["roles"] = Json.Array(verdicts.Select(v => v.Role)) }
        );
        return (
            next,
            next == TaskStates.AwaitingReview
                ? "Every role approved; a human review comes next."
                : "Every role approved; the task is approved."
        );
    }

    /// <summary>All verdicts on a run, refused to a verifier until its own verdict is committed.</summary>
    public async Task<IReadOnlyList<VerdictRow>> VerdictsAsync(
        Caller caller,
        long runId,
        CancellationToken ct = default
    )
    {
        if (caller.Role == Roles.Agent)
            throw new LedgerException("Builders do not read verdicts; rework packets carry the findings.");
        var verdicts = (
            await db.QueryAsync<VerdictRow>(
                VerdictRow.Select + " WHERE v.run_id = @runId ORDER BY v.id",
                SqlArgs.Of(new { runId }),
                ct
            )
        ).ToList();
        if (caller.Role == Roles.Verifier && verdicts.All(v => v.Verifier != caller.Name))
            throw new LedgerException(
                $"Submit your own verdict on run {runId} first; other verdicts stay hidden until yours is committed, so no verifier anchors on another."
            );
        return verdicts;
    }

    public async Task<IReadOnlyList<VerdictRow>> ForRunAsync(long runId, CancellationToken ct = default) =>
        (
            await db.QueryAsync<VerdictRow>(
                VerdictRow.Select + " WHERE v.run_id = @runId ORDER BY v.id",
                SqlArgs.Of(new { runId }),
                ct
            )
        ).ToList();

    /// <summary>Read-only trees of this verifier's finished verifications of a run, to delete.</summary>
    public async Task<IReadOnlyList<string>> FinishedCheckoutsAsync(
        Caller caller,
        long runId,
        CancellationToken ct = default
    ) =>
        (
            await db.QueryAsync<string>(
                """
                SELECT checkout FROM verifications WHERE run_id = @runId AND agent_id = @agentId AND state <> 'claimed' AND checkout IS NOT NULL
                """,
                SqlArgs.Of(new { runId, agentId = caller.AgentId }),
                ct
            )
        ).ToList();

    /// <summary>Whether the caller verifies (or verified) the run, or any run of the task: what a verifier may read.</summary>
    public async Task<bool> VerifiesAsync(Caller caller, long? runId, long? taskId, CancellationToken ct = default) =>
        await db.QuerySingleOrDefaultAsync<long>(
            """
            SELECT count(*) FROM verifications v JOIN runs r ON r.id = v.run_id
            WHERE v.agent_id = @agentId AND v.state IN ('claimed', 'submitted') AND (@runId IS NULL OR r.id = @runId) AND (@taskId IS NULL OR r.task_id = @taskId)
            """,
            SqlArgs.Of(
                new
                {
                    agentId = caller.AgentId,
                    runId,
                    taskId,
                }
            ),
            ct
        ) > 0;

    /// <summary>Verifier roles that tasks await but no active verifier is registered for, with the tasks waiting on them.</summary>
    public async Task<IReadOnlyDictionary<string, IReadOnlyList<long>>> UnstaffedRolesAsync(
        CancellationToken ct = default
    )
    {
        var rows = await db.QueryAsync<(long TaskId, string Role)>(
            new Sql(
                Sqlite: """
                SELECT t.id, j.value FROM tasks t, json_each(t.settings_json, '$.verifiers') j
                WHERE t.state = 'awaiting_verification'
                  AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.role = 'verifier' AND a.verifier_role = j.value AND a.revoked_at IS NULL)
                """,
                PostgreSql: """
                SELECT t.id, j.value FROM tasks t CROSS JOIN LATERAL jsonb_array_elements_text(CAST(t.settings_json AS jsonb) -> 'verifiers') AS j (value)
                WHERE t.state = 'awaiting_verification'
                  AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.role = 'verifier' AND a.verifier_role = j.value AND a.revoked_at IS NULL)
                """
            ),
            ct: ct
        );
        return rows.GroupBy(r => r.Role)
            .ToDictionary(g => g.Key, g => (IReadOnlyList<long>)g.Select(r => r.TaskId).ToList());
    }

    /// <summary>
    /// Expires claims of verifiers that went silent (the role becomes claimable again) and escalates
    /// tasks whose verification outlived the line's verification_timeout_minutes. A read unless something is due.
    /// </summary>
    public async Task<IReadOnlyList<string>> SweepAsync(CancellationToken ct = default)
    {
        var now = Iso.Text(db.Now);
        var expired = (
            await db.QueryAsync<VerificationRow>(
                VerificationRow.Select + " WHERE state = 'claimed' AND lease_expires_at < @now",
                SqlArgs.Of(new { now }),
                ct
            )
        ).ToList();
        var checkouts = expired.Select(e => e.Checkout).OfType<string>().ToList();
        foreach (var claim in expired)
        {
            await db.WriteAsync(
                "server:verification-sweeper",
                async w =>
                {
                    var changed = await w.ExecuteAsync(
                        "UPDATE verifications SET state = 'expired', closed_at = @now WHERE id = @id AND state = 'claimed' AND lease_expires_at < @now",
                        SqlArgs.Of(new { id = claim.Id, now = w.NowText })
                    );
                    if (changed == 1)
                        await w.AuditAsync(
                            "verification.expired",
                            "run",
                            claim.RunId,
                            new JsonObject { ["verification_id"] = claim.Id, ["role"] = claim.Role }
                        );
                },
                ct
            );
        }
        var waiting = await db.QueryAsync<(long RunId, long TaskId, string AcceptedAt, string SettingsJson)>(
            """
            SELECT r.id, t.id, r.accepted_at, t.settings_json FROM runs r JOIN tasks t ON t.id = r.task_id
            WHERE t.state = 'awaiting_verification' AND r.state = 'accepted' AND r.accepted_at IS NOT NULL
            """,
            ct: ct
        );
        foreach (var (runId, taskId, acceptedAt, settingsJson) in waiting)
        {
            var settings = TaskSettings.FromJson(settingsJson);
            if (Iso.Parse(acceptedAt).AddMinutes(settings.VerificationTimeoutMinutes) > db.Now)
                continue;
            await db.WriteAsync(
                "server:verification-sweeper",
                async w =>
                {
                    var task = await TaskLedger.RequireAsync(w, taskId);
                    if (task.State != TaskStates.AwaitingVerification)
                        return;
                    var spoken = await w.QueryAsync<string>(
                        "SELECT role FROM verdicts WHERE run_id = @runId",
                        SqlArgs.Of(new { runId })
                    );
                    var missing = settings.Verifiers.Except(spoken).ToList();
                    await w.ExecuteAsync(
                        "UPDATE verifications SET state = 'expired', closed_at = @now WHERE run_id = @runId AND state = 'claimed'",
                        SqlArgs.Of(new { runId, now = w.NowText })
                    );
                    await EscalationLedger.RaiseAsync(
                        w,
                        taskId,
                        runId,
                        $"Verification of run {runId} by {string.Join(", ", missing)} did not finish within {settings.VerificationTimeoutMinutes} minutes (verification_timeout_minutes). Is a verifier registered for each role? Requeue for verification or cancel?"
                    );
                },
                ct
            );
        }
        return checkouts;
    }
}
