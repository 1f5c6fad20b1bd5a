using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Gate;
using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tests.Gate;

public abstract class GateTests(LedgerEngine engine) : EngineTests(engine)
{
    [Fact]
    public async Task PrReady_RealFix_IsAccepted_WithServerObservedEvidence()
    {
        using var gate = await GateHarness.CreateAsync(engine: Engine);
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);

        var result = await gate.DeclareAsync();

        Assert.Equal("accepted", result.Outcome);
        Assert.Equal(RunStates.Accepted, result.RunState);
        Assert.Equal(TaskStates.AwaitingReview, result.TaskState);
        var run = await gate.Factory.Services.Runs.GetAsync(gate.RunId);
        Assert.True(FactoryMcp.Ledger.CommitSha.IsFull(run.HeadSha));
        var evidence = await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId);
        var server = evidence.Where(e => e.Origin == "server").ToDictionary(e => e.Kind);
        Assert.Contains("src/greet.sh", server["diff"].Content);
        Assert.Contains("1/1 commands passed", server["test_output"].Summary);
        // The suite requires bubblewrap (SandboxTests), so this validation ran sandboxed: ", sandboxed" exactly,
        // since "sandboxed" alone is also a substring of "unsandboxed".
        Assert.True(CommandSandbox.Available, "bubblewrap is not usable here; install the Debian package bubblewrap");
        Assert.Contains("commands passed, sandboxed", server["test_output"].Summary);
        Assert.DoesNotContain("unsandboxed", server["test_output"].Summary);
        Assert.DoesNotContain("unsandboxed", server["test_output"].Content);
        Assert.Contains("at base fail", server["reproduction"].Summary);
        Assert.Contains("at head pass", server["reproduction"].Summary);
        // The head sits on the run's ref in the server's mirror, and validation left no checkout behind.
        var mirror = gate.Factory.Services.Mirrors.PathFor(
            (await gate.Factory.Services.Tasks.GetAsync(gate.TaskId)).Repo
        );
        Assert.Equal(
            run.HeadSha,
            await GitRunner.OutputAsync(["rev-parse", $"refs/factory/runs/{gate.RunId}"], new() { GitDir = mirror })
        );
        Assert.Empty(
            Directory.Exists(Path.Combine(gate.Factory.Paths.RunsFolder, ".validation"))
                ? Directory.GetDirectories(Path.Combine(gate.Factory.Paths.RunsFolder, ".validation"))
                : []
        );
    }

    [Fact]
    public async Task PrReady_WithNoChange_IsRefused_RunStaysOpen_RefusalRecorded()
    {
        using var gate = await GateHarness.CreateAsync(engine: Engine);
        await gate.PlanAsync();
        var e = await gate.RefusedAsync();
        Assert.Contains(e.Problems, p => p.Contains("the diff base...head is empty"));
        var run = await gate.Factory.Services.Runs.GetAsync(gate.RunId);
        Assert.Equal(RunStates.Open, run.State);
        Assert.Equal(1, run.Refusals);
        Assert.Equal(TaskStates.Running, (await gate.Factory.Services.Tasks.GetAsync(gate.TaskId)).State);
        Assert.Equal(0, (await gate.Factory.Services.Tasks.GetAsync(gate.TaskId)).Attempts);
        Assert.Contains(
            await gate.Factory.Services.Declarations.ForRunAsync(gate.RunId),
            d => d.Outcome == "refused" && d.State == "PR_READY"
        );
    }

    [Fact]
    public async Task PrReady_EditingATestUnderNonGoalsToPass_IsRefusedNamingTheFile()
    {
        using var gate = await GateHarness.CreateAsync(
            GateHarness.Packet(validation: "sh tests/legacy/old_test.sh", reproduction: null),
            engine: Engine
        );
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        await gate.WriteAsync("tests/legacy/old_test.sh", "#!/bin/sh\n# made to pass\nexit 0\n");
        var e = await gate.RefusedAsync();
        Assert.Contains(e.Problems, p => p.Contains("`tests/legacy/old_test.sh`") && p.Contains("Non-Goals"));
        var diff = (await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId)).Single(x =>
            x.Kind == "diff" && x.Origin == "server"
        );
        Assert.Contains("EDITED TESTS", diff.Content);
    }

    [Fact]
    public async Task PrReady_WhenValidationFails_IsRefusedNamingTheCommand()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(reproduction: null), engine: Engine);
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", "#!/bin/sh\necho \"hello wurld\"\n");
        var e = await gate.RefusedAsync();
        Assert.Contains(
            e.Problems,
            p => p.Contains("validation command `sh tests/test_greet.sh` exited 1") && p.Contains("got hello wurld")
        );
    }

    [Fact]
    public async Task PrReady_OutsideScope_AndMissingEvidence_AreAllListedAtOnce()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(reproduction: null), engine: Engine);
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        await gate.WriteAsync("README.md", "# changed\n");
        var e = await gate.RefusedAsync();
        Assert.Contains(e.Problems, p => p.Contains("`README.md`") && p.Contains("outside Scope"));
        Assert.Contains(e.Problems, p => p.Contains("required evidence `plan` is missing"));
    }

    [Fact]
    public async Task PrReady_HeadNotDescendingFromBase_IsRefused()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(reproduction: null), engine: Engine);
        await gate.PlanAsync();
        var ws = new GitRunner.Options { WorkingDirectory = gate.Workspace };
        await GitRunner.OutputAsync(["checkout", "-q", "--orphan", "unrelated"], ws);
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        await GitRunner.OutputAsync(["add", "-A"], ws);
        await GitRunner.OutputAsync(["commit", "-qm", "unrelated history"], ws);
        var head = await GitRunner.OutputAsync(["rev-parse", "HEAD"], ws);
        var e = await gate.RefusedAsync(headCommit: head);
        Assert.Contains(e.Problems, p => p.Contains("does not descend from base"));
    }

    [Fact]
    public async Task PrReady_HeadFromAnotherRun_IsRefused()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(reproduction: null), engine: Engine);
        // Another task of the same repository, another builder, an accepted head.
        var other = await gate.Factory.ApprovedTaskAsync(
            GateHarness.Packet(reproduction: null).Replace("Greeting says hello world", "Other")
        );
        var otherBuilder = await gate.Factory.BuilderAsync("other-builder");
        var otherView = await gate.Factory.Services.Packets.GetTaskPacketAsync(otherBuilder, null, false);
        await File.WriteAllTextAsync(Path.Combine(otherView.Workspace!, "src", "greet.sh"), GateHarness.FixedGreeting);
        var ws = new GitRunner.Options { WorkingDirectory = otherView.Workspace };
        await GitRunner.OutputAsync(["commit", "-qam", "other's fix"], ws);
        var othersHead = await GitRunner.OutputAsync(["rev-parse", "HEAD"], ws);
        await gate.Factory.Services.Heads.FromWorkspaceAsync(
            await gate.Factory.Services.Runs.GetAsync(otherView.RunId!.Value),
            (await gate.Factory.Services.Tasks.GetAsync(other.Id)).Repo,
            othersHead
        );

        // Our builder claims that commit as its own head (it fetched it somehow into its workspace).
        await gate.PlanAsync();
        await GitRunner.OutputAsync(
            ["fetch", "-q", otherView.Workspace!, "HEAD:refs/heads/stolen"],
            new() { WorkingDirectory = gate.Workspace }
        );
        var e = await gate.RefusedAsync(headCommit: othersHead);
        Assert.Contains(
            e.Problems,
            p => p.Contains($"refs/factory/runs/{otherView.RunId}") && p.Contains("not only from this run's ref")
        );
    }

    [Fact]
    public async Task PrReady_ReproductionTestAddedByTheAgent_ProvesTheBugAtBase()
    {
        using var gate = await GateHarness.CreateAsync(withTest: false, engine: Engine);
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        await gate.WriteAsync("tests/test_greet.sh", GateHarness.GreetingTest);
        var result = await gate.DeclareAsync();
        Assert.Equal("accepted", result.Outcome);
        var reproduction = (await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId)).Single(x =>
            x.Kind == "reproduction" && x.Origin == "server"
        );
        Assert.Contains("with tests/test_greet.sh from head", reproduction.Content);
        Assert.Contains("expected hello world, got hello wrld", reproduction.Content);
    }

    [Fact]
    public async Task PrReady_AddedTestThatPassesAtBase_DoesNotProveTheBug_Refused()
    {
        using var gate = await GateHarness.CreateAsync(withTest: false, engine: Engine);
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        await gate.WriteAsync("tests/test_greet.sh", "#!/bin/sh\necho ok\n");
        var e = await gate.RefusedAsync();
        Assert.Contains(
            e.Problems,
            p => p.Contains("the Reproduction passes at base even with your tests laid over it")
        );
    }

    [Fact]
    public async Task PrReady_InconclusiveReproduction_IsNeitherPassNorFail()
    {
        using var gate = await GateHarness.CreateAsync(
            GateHarness.Packet(reproduction: "no-such-tool --check"),
            engine: Engine
        );
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        var e = await gate.RefusedAsync();
        Assert.Contains(e.Problems, p => p.Contains("at base was inconclusive") && p.Contains("not found (exit 127)"));
        Assert.Contains(e.Problems, p => p.Contains("at head was inconclusive"));
    }

    [Fact]
    public async Task NoOpAlreadyFixed_WhileTheBugIsStillThere_IsRefused()
    {
        using var gate = await GateHarness.CreateAsync(engine: Engine);
        await gate.PlanAsync();
        var e = await gate.RefusedAsync("NO_OP", "already_fixed");
        Assert.Contains(
            e.Problems,
            p => p.Contains("the Reproduction still fails at base") && p.Contains("the bug is there")
        );
        Assert.Equal(RunStates.Open, (await gate.Factory.Services.Runs.GetAsync(gate.RunId)).State);
    }

    [Fact]
    public async Task NoOpAlreadyFixed_WhenBaseIsFine_IsAccepted()
    {
        using var gate = await GateHarness.CreateAsync(
            extraFiles: new Dictionary<string, string> { ["src/greet.sh"] = GateHarness.FixedGreeting },
            engine: Engine
        );
        await gate.PlanAsync();
        var result = await gate.DeclareAsync("NO_OP", "already_fixed");
        Assert.Equal(RunStates.NoOp, result.RunState);
        Assert.Equal(TaskStates.NoOp, (await gate.Factory.Services.Tasks.GetAsync(gate.TaskId)).State);
    }

    [Fact]
    public async Task Declare_SameArgumentsWhileValidating_ReturnsTheSameJob_AndRunLeaseIsFrozen()
    {
        using var gate = await GateHarness.CreateAsync(
            GateHarness.Packet(reproduction: null, extraFrontMatter: "lease_minutes: 1"),
            engine: Engine
        );
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        var input = new DeclarationInput(gate.RunId, "PR_READY", "done");
        var first = await gate.Factory.Services.Gate.DeclareAsync(gate.Builder, input);
        Assert.Equal("validating", first.Outcome);
        gate.Factory.Time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(0, await gate.Factory.Services.Leases.SweepExpiredAsync());
        var again = await gate.Factory.Services.Gate.DeclareAsync(gate.Builder, input);
        Assert.Equal("validating", again.Outcome);
        Assert.Single(await gate.Factory.Services.ValidationJobs.ForRunAsync(gate.RunId));
        await gate.RunWorkerAsync();
        Assert.Equal("accepted", (await gate.Factory.Services.Gate.DeclareAsync(gate.Builder, input)).Outcome);
        Assert.Equal("accepted", (await gate.Factory.Services.Gate.DeclareAsync(gate.Builder, input)).Outcome);
    }

    [Fact]
    public async Task Declare_AfterARefusal_SameArgumentsValidateTheFixedWorkspaceAnew()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(reproduction: null), engine: Engine);
        await gate.PlanAsync();
        await gate.RefusedAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        Assert.Equal("accepted", (await gate.DeclareAsync()).Outcome);
        Assert.Equal(2, (await gate.Factory.Services.ValidationJobs.ForRunAsync(gate.RunId)).Count);
    }

    [Fact]
    public async Task ValidationResults_AreCachedPerCommitCommandAndEnvironment()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(reproduction: null), engine: Engine);
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        var e = await gate.RefusedAsync();
        Assert.Single(e.Problems, p => p.Contains("`plan` is missing"));
        await gate.PlanAsync();
        Assert.Equal("accepted", (await gate.DeclareAsync()).Outcome);

        var outputs = (await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId))
            .Where(x => x.Kind == "test_output")
            .ToList();
        Assert.Equal(2, outputs.Count);
        Assert.DoesNotContain(", cached", outputs[0].Content);
        Assert.Contains(", cached", outputs[1].Content);
        var jobs = await gate.Factory.Services.ValidationJobs.ForRunAsync(gate.RunId);
        Assert.Equal(jobs[0].HeadSha, jobs[1].HeadSha);
    }

    [Fact]
    public async Task PrReady_WithAnEmptySummary_IsRefusedByTheLedgersConditions_BeforeAnyValidationStarts()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(reproduction: null), engine: Engine);
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            gate.Factory.Services.Gate.DeclareAsync(gate.Builder, new DeclarationInput(gate.RunId, "PR_READY", " "))
        );
        Assert.Contains("`summary` is empty", e.Message);
        Assert.Empty(await gate.Factory.Services.ValidationJobs.ForRunAsync(gate.RunId));
        var refused = Assert.Single(await gate.Factory.Services.Declarations.ForRunAsync(gate.RunId));
        Assert.Equal("refused", refused.Outcome);
        Assert.Equal("open", (await gate.Factory.Services.Runs.GetAsync(gate.RunId)).State);
    }

    [Fact]
    public async Task GateEvaluator_ListsItsConditionsInDesignOrder_EvidenceHeadValidationReproductionDiff()
    {
        // Nothing is fixed, no plan is recorded, and a file outside Scope changes: conditions 1, 3, 4 and 5 fail.
        using var gate = await GateHarness.CreateAsync(engine: Engine);
        await gate.WriteAsync("README.md", "changed outside scope\n");
        var e = await gate.RefusedAsync();
        var order = new[] { "`plan` is missing", "validation command", "Reproduction", "outside Scope" }
            .Select(marker => e.Problems.ToList().FindIndex(p => p.Contains(marker)))
            .ToList();
        Assert.DoesNotContain(-1, order);
        Assert.Equal(order.Order(), order);
    }
}

public sealed class GateTestsOnSqlite() : GateTests(LedgerEngine.Sqlite);

public sealed class GateTestsOnPostgreSql() : GateTests(LedgerEngine.PostgreSql);
