using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Signals;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Specs;

/// <summary>A new signal that closely matches open work is linked and flagged for a human, never dropped.</summary>
public abstract class DuplicateSignalTests(LedgerEngine engine) : EngineTests(engine)
{
    private static SignalInput Issue(int number, string title, string body, params string[] labels) =>
        new(
            SignalKeys.GitHub,
            $"acme/billing#{number}",
            title,
            body,
            $"https://github.com/acme/billing/issues/{number}",
            labels,
            "octocat",
            null
        );

    [Fact]
    public async Task NearDuplicateOfAnOpenTask_IsLinkedAndFlagged_StillDrafted_AndNotAutoApproved()
    {
        using var factory = await CreateFactoryAsync(SpecJobTests.Lines);
        var first = await factory.Services.SignalIntake.IngestAsync(
            "human:tester",
            Issue(1, "Invoice totals round half-down", "Totals are off by a cent when a value ends in 5.", "bug")
        );
        Assert.Equal(TaskStates.Ready, first.Task!.State); // auto-approved: nothing resembled it

        var second = await factory.Services.SignalIntake.IngestAsync(
            "human:tester",
            Issue(
                2,
                "Invoice totals are rounded half-down",
                "When the value ends in 5 the totals are a cent off.",
                "bug"
            )
        );

        var link = Assert.Single(second.Duplicates);
        Assert.Equal(("task", first.Task.Id), (link.RelatedKind, link.RelatedId));
        Assert.True(link.Similarity >= Similarity.DefaultThreshold);
        Assert.Equal(
            link.Similarity,
            Assert.Single(await factory.Services.Signals.LinksAsync(second.Signal.Id)).Similarity
        );
        // Not dropped: drafted like any other, but a human decides.
        Assert.Equal(TaskStates.Proposed, second.Task!.State);
        Assert.Contains($"it may duplicate task {first.Task.Id}", second.Note);
        Assert.Contains(
            $"it may duplicate task {first.Task.Id}",
            (await factory.Services.Signals.GetAsync(second.Signal.Id)).StatusReason
        );
        Assert.Equal(
            second.Signal.Id,
            Assert.Single(await factory.Services.Signals.LinkedFromAsync("task", first.Task.Id)).SignalId
        );
    }

    [Fact]
    public async Task NearDuplicateOfAnUndraftedSignal_IsLinkedToThatSignal()
    {
        using var factory = await CreateFactoryAsync(SpecJobTests.Lines);
        var first = await factory.Services.SignalIntake.IngestAsync(
            "human:tester",
            Issue(1, "Export invoices as CSV files", "Finance needs a CSV export.", "feature")
        );
        Assert.Equal(SignalStatuses.Invalid, first.Signal.Status); // line feature has no template

        var second = await factory.Services.SignalIntake.IngestAsync(
            "human:tester",
            Issue(2, "CSV export of invoices", "Finance needs a CSV export of invoices.", "feature")
        );

        var link = Assert.Single(second.Duplicates);
        Assert.Equal(("signal", first.Signal.Id), (link.RelatedKind, link.RelatedId));
    }

    [Fact]
    public async Task DifferentDemand_OrAClosedTask_IsNotFlagged()
    {
        using var factory = await CreateFactoryAsync(SpecJobTests.Lines);
        var first = await factory.Services.SignalIntake.IngestAsync(
            "human:tester",
            Issue(1, "Invoice totals round half-down", "Totals are off by a cent when a value ends in 5.", "bug")
        );
        await factory.Services.Intake.CancelAsync(TestFactory.Human, first.Task!.Id, "fixed elsewhere");

        var reworded = await factory.Services.SignalIntake.IngestAsync(
            "human:tester",
            Issue(
                2,
                "Invoice totals are rounded half-down",
                "When the value ends in 5 the totals are a cent off.",
                "bug"
            )
        );
        var unrelated = await factory.Services.SignalIntake.IngestAsync(
            "human:tester",
            Issue(3, "App crashes when saving a report", "Saving any report closes the window.", "bug")
        );

        Assert.Empty(reworded.Duplicates);
        Assert.Equal(TaskStates.Ready, reworded.Task!.State);
        Assert.Empty(unrelated.Duplicates);
        Assert.Empty(await factory.Services.Signals.LinksAsync(unrelated.Signal.Id));
    }

    [Fact]
    public async Task DuplicateThreshold_FromFactoryYaml_IsUsed()
    {
        using var factory = await CreateFactoryAsync(SpecJobTests.Lines);
        await File.WriteAllTextAsync(factory.Paths.FactoryConfig, "duplicate_threshold: 0.95\n");
        await factory.Services.SignalIntake.IngestAsync(
            "human:tester",
            Issue(1, "Invoice totals round half-down", "Totals are off by a cent when a value ends in 5.", "bug")
        );

        var second = await factory.Services.SignalIntake.IngestAsync(
            "human:tester",
            Issue(
                2,
                "Invoice totals are rounded half-down",
                "When the value ends in 5 the totals are a cent off.",
                "bug"
            )
        );

        Assert.Empty(second.Duplicates);
    }
}

public sealed class DuplicateSignalTestsOnSqlite() : DuplicateSignalTests(LedgerEngine.Sqlite);

public sealed class DuplicateSignalTestsOnPostgreSql() : DuplicateSignalTests(LedgerEngine.PostgreSql);
