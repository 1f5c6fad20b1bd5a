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
                    new { now = w.NowText }
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
                    new { state, now = w.NowText }
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
                    new
                    {
                        task,
                        state,
                        now = w.NowText,
                    }
                )
        );
    }

    [Fact]
    public async Task MoveTask_EveryEdgeOutsideDesignSection3_IsRefusedAndChangesNothing()
    {
        var (db, dir) = await LedgerAsync();
        using var _ = dir;
        var refused = 0;
        foreach (var from in TaskStates.All)
        {
            foreach (var to in TaskStates.All.Where(to => !StateMachine.CanMoveTask(from, to)))
            {
                var id = await InsertTaskAsync(db, from);
                var auditBefore = await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM audit");
                var e = await Assert.ThrowsAsync<LedgerException>(() =>
                    db.WriteAsync("test", w => StateMachine.MoveTaskAsync(w, id, to, "test.move"))
                );
                Assert.Contains($"is {from} and cannot become {to}", e.Message);
                Assert.Equal(
                    from,
                    await db.QuerySingleOrDefaultAsync<string>("SELECT state FROM tasks WHERE id = @id", new { id })
                );
                Assert.Equal(auditBefore, await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM audit"));
                refused++;
            }
        }
        Assert.True(refused > 100, $"only {refused} refused edges were exercised");
    }

    [Fact]
    public async Task MoveRun_EveryEdgeOutsideDesignSection3_IsRefusedAndChangesNothing()
    {
        var (db, dir) = await LedgerAsync();
        using var _ = dir;
        foreach (var from in RunStates.All)
        {
            foreach (var to in RunStates.All.Where(to => !StateMachine.CanMoveRun(from, to)))
            {
                var id = await InsertRunAsync(db, from);
                var e = await Assert.ThrowsAsync<LedgerException>(() =>
                    db.WriteAsync("test", w => StateMachine.MoveRunAsync(w, id, to, "test.move"))
                );
                Assert.Contains($"cannot become {to}", e.Message);
                Assert.Equal(
                    from,
                    await db.QuerySingleOrDefaultAsync<string>("SELECT state FROM runs WHERE id = @id", new { id })
                );
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
            w => StateMachine.MoveTaskAsync(w, id, TaskStates.Ready, "task.approved", new { b = 2, a = 1 })
        );
        Assert.Equal(
            TaskStates.Ready,
            await db.QuerySingleOrDefaultAsync<string>("SELECT state FROM tasks WHERE id = @id", new { id })
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
    public void FinalStates_HaveNoWayOut()
    {
        foreach (var final in TaskStates.All.Where(TaskStates.IsFinal))
            Assert.DoesNotContain(TaskStates.All, to => StateMachine.CanMoveTask(final, to));
    }
}
