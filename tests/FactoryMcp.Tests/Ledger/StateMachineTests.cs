using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Ledger;

public sealed class StateMachineTests
{
    private static async Task<(LedgerDatabase Db, TempDirectory Dir)> LedgerAsync()
    {
        var dir = new TempDirectory();
        var db = LedgerDatabase.Create(new LedgerPaths(dir.Combine(".factory", "ledger.db")), "test");
        await db.WriteAsync(
            "test",
            async w =>
            {
                await w.ExecuteAsync(
                    "INSERT INTO agents (id, name, role, created_at, created_by) VALUES (1, 'a', 'agent', @now, 'test')",
                    SqlArgs.Of(new { now = w.NowText })
                );
            }
        );
        return (db, dir);
    }

    private static Task<long> InsertTaskAsync(LedgerDatabase db, string state) =>
        db.WriteAsync(
            "test",
            w =>
                w.ScalarAsync<long>(
                    """
                    INSERT INTO tasks (title, line, state, priority, output, repo, current_version, authored_by, author_role, created_at, updated_at)
                    VALUES ('t', 'default', @state, 1, 'pr', '/r', 1, 'x', 'human', @now, @now) RETURNING id
                    """,
                    SqlArgs.Of(new { state, now = w.NowText })
                )
        );

    private static async Task<long> InsertRunAsync(LedgerDatabase db, string state)
    {
        var task = await InsertTaskAsync(db, TaskStates.Running);
        return await db.WriteAsync(
            "test",
            w =>
                w.ScalarAsync<long>(
                    """
                    INSERT INTO runs (task_id, agent_id, kind, state, packet_version, opened_at) VALUES (@task, 1, 'build', @state, 1, @now) RETURNING id
                    """,
                    SqlArgs.Of(
                        new
                        {
                            task,
                            state,
                            now = w.NowText,
                        }
                    )
                )
        );
    }

    // The allowed edges, written out from DESIGN section 3 and the README's decisions, independently of
    // StateMachine's own tables: the tests below try every pair of states against them.
    private static readonly HashSet<(string From, string To)> DesignTaskEdges =
    [
        ("proposed", "ready"), // a human approves (or a spec job is queued)
        ("proposed", "rejected"), // a human turns the proposal down
        ("proposed", "cancelled"),
        ("ready", "running"), // claimed
        ("ready", "cancelled"),
        ("running", "validating"), // PR_READY, or a NO_OP re-checked at base
        ("running", "ready"), // RETRYABLE_FAILURE, lease expiry, hand-off, a drain session ended undeclared
        ("running", "no_op"), // NO_OP accepted without a re-check
        ("running", "awaiting_review"), // NO_OP on a line with no_op_review
        ("running", "escalated"), // ESCALATE, max_attempts, max_refusals
        ("running", "cancelled"),
        ("running", "specced"), // a spec job answered with a proposed packet (README, "Spec jobs")
        ("validating", "running"), // the gate refused: the run is open again
        ("validating", "awaiting_verification"),
        ("validating", "awaiting_review"), // no verifiers, review required (or a NO_OP sent to review)
        ("validating", "approved"), // no verifiers, no review
        ("validating", "no_op"), // the NO_OP re-check confirmed the bug is gone
        ("validating", "escalated"), // max_refusals reached by a refused validation
        ("validating", "cancelled"),
        ("awaiting_verification", "awaiting_review"),
        ("awaiting_verification", "approved"),
        ("awaiting_verification", "ready"), // a verifier rejected: rework
        ("awaiting_verification", "escalated"), // needs_human, verification timeout, max_reworks
        ("awaiting_verification", "cancelled"),
        ("awaiting_verification", "no_op"), // a pull request's verification-only job, every role spoken (issue 19)
        ("awaiting_review", "approved"),
        ("awaiting_review", "no_op"), // a reviewer approved a NO_OP
        ("awaiting_review", "ready"), // changes_requested: rework
        ("awaiting_review", "rejected"), // a reviewer rejected the change
        ("awaiting_review", "escalated"), // max_reworks
        ("awaiting_review", "cancelled"),
        ("approved", "shipped"),
        ("approved", "cancelled"),
        ("escalated", "ready"), // answered: requeue
        ("escalated", "cancelled"), // answered: cancel
    ];

    private static readonly HashSet<(string From, string To)> DesignRunEdges =
    [
        ("open", "validating"),
        ("open", "no_op"),
        ("open", "escalated"),
        ("open", "failed"), // RETRYABLE_FAILURE
        ("open", "expired"), // lease
        ("open", "handed_off"),
        ("open", "cancelled"),
        ("validating", "accepted"),
        ("validating", "open"), // refused returns the run to open
        ("validating", "no_op"),
        ("validating", "escalated"), // max_refusals
        ("validating", "cancelled"),
        ("accepted", "superseded"), // rework, or an answered escalation requeues the task
        ("accepted", "cancelled"),
        ("no_op", "superseded"),
    ];

    private static readonly string[] DesignTaskStates =
    [
        "proposed",
        "ready",
        "running",
        "validating",
        "awaiting_verification",
        "awaiting_review",
        "approved",
        "shipped",
        "no_op",
        "escalated",
        "cancelled",
        "rejected",
        "specced",
    ];

    private static readonly string[] DesignRunStates =
    [
        "open",
        "validating",
        "accepted",
        "no_op",
        "escalated",
        "failed",
        "expired",
        "superseded",
        "handed_off",
        "cancelled",
    ];

    [Fact]
    public void States_AreExactlyThoseOfDesignSection3()
    {
        Assert.Equal(DesignTaskStates.Order(), TaskStates.All.Order());
        Assert.Equal(DesignRunStates.Order(), RunStates.All.Order());
    }

    [Fact]
    public async Task MoveTask_EveryPairOfStates_AppliesExactlyTheDesignEdges()
    {
        var (db, dir) = await LedgerAsync();
        using var _ = dir;
        foreach (var from in DesignTaskStates)
        foreach (var to in DesignTaskStates)
        {
            var id = await InsertTaskAsync(db, from);
            var auditBefore = await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM audit");
            var move = () => db.WriteAsync("test", w => StateMachine.MoveTaskAsync(w, id, to, "test.move"));
            var state = () =>
                db.QuerySingleOrDefaultAsync<string>("SELECT state FROM tasks WHERE id = @id", SqlArgs.Of(new { id }));
            if (DesignTaskEdges.Contains((from, to)))
            {
                Assert.Equal(from, await move());
                Assert.Equal(to, await state());
                Assert.Equal(auditBefore + 1, await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM audit"));
            }
            else
            {
                var e = await Assert.ThrowsAsync<LedgerException>(move);
                Assert.Contains($"is {from} and cannot become {to}", e.Message);
                Assert.Equal(from, await state());
                Assert.Equal(auditBefore, await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM audit"));
            }
        }
    }

    [Fact]
    public async Task MoveRun_EveryPairOfStates_AppliesExactlyTheDesignEdges()
    {
        var (db, dir) = await LedgerAsync();
        using var _ = dir;
        foreach (var from in DesignRunStates)
        foreach (var to in DesignRunStates)
        {
            var id = await InsertRunAsync(db, from);
            var auditBefore = await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM audit");
            var move = () => db.WriteAsync("test", w => StateMachine.MoveRunAsync(w, id, to, "test.move"));
            var state = () =>
                db.QuerySingleOrDefaultAsync<string>("SELECT state FROM runs WHERE id = @id", SqlArgs.Of(new { id }));
            if (DesignRunEdges.Contains((from, to)))
            {
                await move();
                Assert.Equal(to, await state());
                Assert.Equal(auditBefore + 1, await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM audit"));
            }
            else
            {
                var e = await Assert.ThrowsAsync<LedgerException>(move);
                Assert.Contains($"cannot become {to}", e.Message);
                Assert.Equal(from, await state());
                Assert.Equal(auditBefore, await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM audit"));
            }
        }
    }

    [Fact]
    public async Task MoveTask_AllowedEdge_AppliesAndAppendsAuditWithCanonicalChange()
    {
        var (db, dir) = await LedgerAsync();
        using var _ = dir;
        var id = await InsertTaskAsync(db, TaskStates.Proposed);
        await db.WriteAsync(
            "human:x",
            w =>
                StateMachine.MoveTaskAsync(
                    w,
                    id,
                    TaskStates.Ready,
                    "task.approved",
                    new System.Text.Json.Nodes.JsonObject { ["b"] = 2, ["a"] = 1 }
                )
        );
        Assert.Equal(
            TaskStates.Ready,
            await db.QuerySingleOrDefaultAsync<string>("SELECT state FROM tasks WHERE id = @id", SqlArgs.Of(new { id }))
        );
        var body = await db.QuerySingleOrDefaultAsync<string>("SELECT body FROM audit WHERE action = 'task.approved'");
        Assert.Contains("\"change\":{\"details\":{\"a\":1,\"b\":2},\"from\":\"proposed\",\"state\":\"ready\"}", body);
    }

    [Fact]
    public async Task MoveTask_UnknownTask_RefusedWithHint()
    {
        var (db, dir) = await LedgerAsync();
        using var _ = dir;
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            db.WriteAsync("test", w => StateMachine.MoveTaskAsync(w, 999, TaskStates.Ready, "x"))
        );
        Assert.Contains("There is no task 999", e.Message);
    }

    [Fact]
    public void IsFinal_NamesExactlyTheStatesWithNoDesignEdgeOut()
    {
        var withWayOut = DesignTaskEdges.Select(e => e.From).ToHashSet();
        foreach (var state in DesignTaskStates)
            Assert.Equal(!withWayOut.Contains(state), TaskStates.IsFinal(state));
    }
}
