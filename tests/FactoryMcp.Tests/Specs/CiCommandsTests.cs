using FactoryMcp.Ledger.Lines;
using FactoryMcp.Tools.Signals;

namespace FactoryMcp.Tests.Specs;

/// <summary>Which ci_commands entry re-runs a failing job.</summary>
public sealed class CiCommandsTests
{
    private static CiFailureDetails Failure(params string[] jobs) =>
        new()
        {
            Repo = "acme/billing",
            Workflow = "CI",
            RunUrl = "https://github.com/acme/billing/actions/runs/1",
            HeadSha = new string('a', 40),
            HeadBranch = "main",
            FailingJobs = [.. jobs.Select(j => new CiJob(j, null, []))],
        };

    private static readonly LineSettings Line = new()
    {
        CiCommands = new()
        {
            ["ci/test"] = "dotnet test",
            ["lint"] = "npm run lint",
            ["Other/test"] = "make other",
            ["CI"] = "make ci",
        },
    };

    [Fact]
    public void Commands_PreferWorkflowSlashJob_ThenJob_CaseInsensitively_EachOnce()
    {
        Assert.Equal(["dotnet test", "npm run lint"], Failure("Test", "lint", "test").Commands(Line));
    }

    [Fact]
    public void Commands_FallBackToTheWorkflowEntry_WhenNoFailingJobHasOne()
    {
        Assert.Equal(["make ci"], Failure("deploy").Commands(Line));
        Assert.Equal(["make ci"], Failure().Commands(Line));
        Assert.Empty(Failure("deploy").Commands(new LineSettings()));
    }
}
