using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tests.Gate;

/// <summary>
/// The gate's risky paths (DESIGN section 5): tests deleted or renamed away, a Reproduction that still
/// fails, declared expectations, symlinks that point out of Scope.
/// </summary>
public sealed class GateRiskTests
{
    private static string RunRef(GateHarness gate) => $"refs/factory/runs/{gate.RunId}";

    [Fact]
    public async Task PrReady_DeletingATestFile_IsRefusedNamingIt_AndNothingMoves()
    {
        using var gate = await GateHarness.CreateAsync(
            GateHarness.Packet(validation: "sh src/greet.sh", reproduction: null)
        );
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        File.Delete(Path.Combine(gate.Workspace, "tests", "test_greet.sh"));

        var e = await gate.RefusedAsync();

        Assert.Contains(
            e.Problems,
            p => p.Contains("deletes test file `tests/test_greet.sh`") && p.Contains("allow_test_deletion")
        );
        Assert.Equal(RunStates.Open, (await gate.Factory.Services.Runs.GetAsync(gate.RunId)).State);
        Assert.Equal(TaskStates.Running, (await gate.Factory.Services.Tasks.GetAsync(gate.TaskId)).State);
    }

    [Fact]
    public async Task PrReady_DeletingATestFile_IsAccepted_WhenAHumanApprovedAllowTestDeletion()
    {
        using var gate = await GateHarness.CreateAsync(
            GateHarness.Packet(
                validation: "sh src/greet.sh",
                reproduction: null,
                extraFrontMatter: "allow_test_deletion: true"
            )
        );
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        File.Delete(Path.Combine(gate.Workspace, "tests", "test_greet.sh"));

        var result = await gate.DeclareAsync();

        Assert.Equal("accepted", result.Outcome);
        var diff = (await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId)).Single(x =>
            x.Kind == "diff" && x.Origin == "server"
        );
        Assert.Contains("tests/test_greet.sh", diff.Content);
    }

    [Fact]
    public async Task PrReady_RenamingATestFileOutOfTheTestFolders_IsRefusedAsADeletion()
    {
        using var gate = await GateHarness.CreateAsync(
            GateHarness.Packet(validation: "sh src/greet.sh", reproduction: null, scope: "- src/\n- tests/")
        );
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        var ws = new GitRunner.Options { WorkingDirectory = gate.Workspace };
        await GitRunner.OutputAsync(["mv", "tests/test_greet.sh", "src/greet_check.sh"], ws);

        var e = await gate.RefusedAsync();

        Assert.Contains(e.Problems, p => p.Contains("deletes test file `tests/test_greet.sh`"));
        var diff = (await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId)).Single(x =>
            x.Kind == "diff" && x.Origin == "server"
        );
        Assert.Contains("tests/test_greet.sh -> src/greet_check.sh", diff.Content); // seen as a rename, not lost
    }

    [Fact]
    public async Task PrReady_ReproductionStillFailingAtHead_IsRefused_EvenWhenValidationPasses()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(validation: "sh src/greet.sh"));
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", "#!/bin/sh\necho \"hello wurld\"\n");

        var e = await gate.RefusedAsync();

        Assert.Contains(
            e.Problems,
            p =>
                p.Contains("the Reproduction still fails at head")
                && p.Contains("expected hello world, got hello wurld")
        );
        Assert.DoesNotContain(e.Problems, p => p.Contains("validation command"));
    }

    [Fact]
    public async Task PrReady_ExpectExitCode_MetAtBase_IsAccepted()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(expect: "exit 1"));
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);

        var result = await gate.DeclareAsync();

        Assert.Equal("accepted", result.Outcome);
        var reproduction = (await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId)).Single(x =>
            x.Kind == "reproduction" && x.Origin == "server"
        );
        Assert.Contains("at base fail", reproduction.Summary);
    }

    [Fact]
    public async Task PrReady_ExpectExitCode_NotMetAtBase_IsRefusedNamingTheExpectation()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(expect: "exit 3"));
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);

        var e = await gate.RefusedAsync();

        Assert.Contains(e.Problems, p => p.Contains("the Reproduction") && p.Contains("(expected exit 3)"));
    }

    [Fact]
    public async Task PrReady_ExpectOutputPattern_MetAtBase_IsAccepted()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(expect: @"output got hello w\w+ld$"));
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);

        Assert.Equal("accepted", (await gate.DeclareAsync()).Outcome);
    }

    [Fact]
    public async Task PrReady_ExpectOutputPattern_NotMetAtBase_IsRefusedNamingThePattern()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(expect: "output got goodbye"));
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);

        var e = await gate.RefusedAsync();

        Assert.Contains(e.Problems, p => p.Contains("(expected output matching `got goodbye`)"));
    }

    [Theory]
    [InlineData("../README.md")]
    [InlineData("../../../../etc/passwd")]
    [InlineData("/etc/passwd")]
    public async Task PrReady_SymlinkInScopePointingOutOfScope_IsRefusedNamingIt(string target)
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(reproduction: null));
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        File.CreateSymbolicLink(Path.Combine(gate.Workspace, "src", "escape"), target);

        var e = await gate.RefusedAsync();

        Assert.Contains(e.Problems, p => p.Contains("symlink `src/escape`") && p.Contains(target));
        Assert.NotEqual("accepted", (await gate.Factory.Services.Declarations.ForRunAsync(gate.RunId)).Last().Outcome);
    }

    [Fact]
    public async Task PrReady_SymlinkInScopePointingInsideScope_IsAccepted()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(reproduction: null));
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        File.CreateSymbolicLink(Path.Combine(gate.Workspace, "src", "hello.sh"), "greet.sh");

        Assert.Equal("accepted", (await gate.DeclareAsync()).Outcome);
        Assert.Equal(
            "120000",
            (
                await GitRunner.OutputAsync(
                    ["ls-tree", RunRef(gate), "src/hello.sh"],
                    new()
                    {
                        GitDir = gate.Factory.Services.Mirrors.PathFor(
                            (await gate.Factory.Services.Tasks.GetAsync(gate.TaskId)).Repo
                        ),
                    }
                )
            ).Split(' ')[0]
        );
    }
}
