using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Ledger;

public abstract class TaskIntakeTests(LedgerEngine engine) : EngineTests(engine)
{
    private static async Task<long> CountTasksAsync(TestFactory f) =>
        await f.Services.Db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM tasks");

    [Fact]
    public async Task Propose_Edit_Approve_KeepsHistory_PinsBaseToFullSha()
    {
        using var factory = await CreateFactoryAsync();
        var task = await factory.Services.Intake.ProposeAsync(TestFactory.Human, PacketText.Simple("First title"));
        Assert.Equal(TaskStates.Proposed, task.State);
        var edited = await factory.Services.Intake.UpdateAsync(
            TestFactory.Human,
            task.Id,
            PacketText.Simple("Better title"),
            "clearer"
        );
        Assert.Equal(2, edited.CurrentVersion);
        Assert.Equal("Better title", edited.Title);
        var approved = await factory.Services.Intake.ApproveAsync(TestFactory.Human, task.Id);
        Assert.Equal(await factory.Repo.HeadAsync(), approved.BaseSha);
        Assert.Equal(2, approved.ApprovedVersion);
        var history = await factory.Services.Tasks.GetPacketHistoryAsync(task.Id);
        Assert.Equal(
            ["First title", "Better title"],
            history.Select(v => FactoryMcp.Ledger.Tasks.TaskLedger.ParsedPacket(v).Title)
        );
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Intake.UpdateAsync(TestFactory.Human, task.Id, PacketText.Simple("Too late"), null)
        );
        Assert.Contains("only a proposed packet can be edited", e.Message);
    }

    [Fact]
    public async Task Approve_BaseNamedByBranch_IsPinnedToThatBranchsSha()
    {
        using var factory = await CreateFactoryAsync();
        var mainSha = await factory.Repo.HeadAsync();
        await FactoryMcp.Tools.Git.GitRunner.OutputAsync(
            ["checkout", "-q", "-b", "feature"],
            new() { WorkingDirectory = factory.Repo.Path }
        );
        await factory.Repo.CommitAsync(new Dictionary<string, string?> { ["src/f.txt"] = "f" }, "feature");
        var task = await factory.Services.Intake.ProposeAsync(
            TestFactory.Human,
            PacketText.Simple(extraFrontMatter: "base: main")
        );
        Assert.Equal(mainSha, (await factory.Services.Intake.ApproveAsync(TestFactory.Human, task.Id)).BaseSha);
    }

    [Fact]
    public async Task Propose_RepositoryOutsideAllowedRoots_RefusedAndNothingStored()
    {
        using var factory = await CreateFactoryAsync();
        using var elsewhere = new TempDirectory("elsewhere");
        await TempRepo.CreateAsync(elsewhere.Combine("other"));
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Intake.ProposeAsync(
                TestFactory.Human,
                PacketText.Simple(extraFrontMatter: $"repo: {elsewhere.Combine("other")}")
            )
        );
        Assert.Contains("outside the allowed repository roots", e.Message);
        Assert.Equal(0, await CountTasksAsync(factory));
    }

    [Fact]
    public async Task Propose_SiblingRepositoryByRelativePath_Resolves()
    {
        using var factory = await CreateFactoryAsync();
        var sibling = await TempRepo.CreateAsync(Path.Combine(factory.Root, "billing"));
        var task = await factory.Services.Intake.ProposeAsync(
            TestFactory.Human,
            PacketText.Simple(extraFrontMatter: "repo: ../billing")
        );
        Assert.Equal(sibling.Path, task.Repo);
    }

    [Theory]
    [InlineData("repo: ../does-not-exist", "does not exist")]
    [InlineData("repo: src", "not its root")]
    public async Task Propose_MissingOrWrongRepository_RefusedAndNothingStored(string frontMatter, string expected)
    {
        using var factory = await CreateFactoryAsync();
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Intake.ProposeAsync(TestFactory.Human, PacketText.Simple(extraFrontMatter: frontMatter))
        );
        Assert.Contains(expected, e.Message);
        Assert.Equal(0, await CountTasksAsync(factory));
    }

    [Fact]
    public async Task Propose_MalformedPacket_RefusedAndNothingStored()
    {
        using var factory = await CreateFactoryAsync();
        await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Intake.ProposeAsync(TestFactory.Human, "# Only a title\n")
        );
        Assert.Equal(0, await CountTasksAsync(factory));
    }

    [Fact]
    public async Task Approve_UnknownBase_RefusedAndTaskStaysProposed()
    {
        using var factory = await CreateFactoryAsync();
        var task = await factory.Services.Intake.ProposeAsync(
            TestFactory.Human,
            PacketText.Simple(extraFrontMatter: "base: no-such-branch")
        );
        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Intake.ApproveAsync(TestFactory.Human, task.Id)
        );
        Assert.Contains("names no branch", e.Message);
        Assert.Equal(TaskStates.Proposed, (await factory.Services.Tasks.GetAsync(task.Id)).State);
    }

    [Fact]
    public async Task Approve_ByANonHuman_Refused()
    {
        using var factory = await CreateFactoryAsync();
        var task = await factory.Services.Intake.ProposeAsync(TestFactory.Human, PacketText.Simple());
        var builder = await factory.BuilderAsync();
        await Assert.ThrowsAsync<LedgerException>(() => factory.Services.Intake.ApproveAsync(builder, task.Id));
    }

    [Fact]
    public async Task Approve_FreezesLineDefaults_LaterLineEditsDoNotChangeTheTask()
    {
        using var factory = await CreateFactoryAsync("bugfix:\n  validation: ['make lint']\n  max_attempts: 4\n");
        var task = await factory.ApprovedTaskAsync();
        await File.WriteAllTextAsync(factory.Paths.LinesConfig, "bugfix:\n  max_attempts: 9\n");
        var settings = FactoryMcp.Ledger.Runs.RunLedger.SettingsOf(await factory.Services.Tasks.GetAsync(task.Id));
        Assert.Equal(["test -f src/app.txt", "make lint"], settings.Validation);
        Assert.Equal(4, settings.MaxAttempts);
    }

    [Fact]
    public async Task Reject_NeedsAReason_AndOnlyForProposals()
    {
        using var factory = await CreateFactoryAsync();
        var task = await factory.Services.Intake.ProposeAsync(TestFactory.Human, PacketText.Simple());
        await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Tasks.RejectAsync(TestFactory.Human, task.Id, " ")
        );
        var rejected = await factory.Services.Tasks.RejectAsync(TestFactory.Human, task.Id, "out of scope for Q4");
        Assert.Equal(TaskStates.Rejected, rejected.State);
        await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Intake.ApproveAsync(TestFactory.Human, task.Id)
        );
    }
}

public sealed class TaskIntakeTestsOnSqlite() : TaskIntakeTests(LedgerEngine.Sqlite);

public sealed class TaskIntakeTestsOnPostgreSql() : TaskIntakeTests(LedgerEngine.PostgreSql);
