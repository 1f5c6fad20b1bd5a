using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Lifecycle;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tests.Ledger;

/// <summary>Leases (DESIGN section 6): start at packet return, renewed on writes, expiry returns the task with an attempt counted.</summary>
public abstract class LeaseTests(LedgerEngine engine) : EngineTests(engine)
{
    [Fact]
    public async Task Lease_OfAFractionOfAMinute_ExpiresAfterThoseSeconds()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync(PacketText.Simple(extraFrontMatter: "lease_minutes: 0.05"));
        var view = await factory.Services.Packets.GetTaskPacketAsync(await factory.BuilderAsync(), null, false);
        Assert.Equal(Iso.Text(factory.Time.GetUtcNow().AddSeconds(3)), view.LeaseExpiresAt);

        factory.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(0, await factory.Services.Leases.SweepExpiredAsync());
        factory.Time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, await factory.Services.Leases.SweepExpiredAsync());
        Assert.Equal(RunStates.Expired, (await factory.Services.Runs.GetAsync(view.RunId!.Value)).State);
    }

    [Fact]
    public async Task Lease_StartsWhenThePacketIsHandedOver_NotAtTheClaim()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync(PacketText.Simple(extraFrontMatter: "lease_minutes: 10"));
        var builder = await factory.BuilderAsync();
        var claim = await factory.Services.Claims.ClaimAsync(builder, false);
        factory.Time.Advance(TimeSpan.FromMinutes(4)); // a slow workspace preparation

        var run = await factory.Services.Claims.StartLeaseAsync(builder, claim.Run!.Id);

        Assert.Equal(factory.Time.GetUtcNow(), run.LeaseStartedAt);
        Assert.Equal(factory.Time.GetUtcNow().AddMinutes(10), run.LeaseExpiresAt);
    }

    [Fact]
    public async Task Claim_NeverHandedOver_IsGivenBackAfterThePreparationDeadline_WithoutCountingAnAttempt()
    {
        using var factory = await CreateFactoryAsync();
        var task = await factory.ApprovedTaskAsync(PacketText.Simple(extraFrontMatter: "lease_minutes: 1"));
        // The server claims, then dies before preparing the workspace: no lease was ever started.
        var claim = await factory.Services.Claims.ClaimAsync(await factory.BuilderAsync("crashed"), false);
        factory.Time.Advance(TimeSpan.FromMinutes(9)); // a slow clone of a large repository is still allowed
        Assert.Equal(0, await factory.Services.Leases.SweepExpiredAsync());
        factory.Time.Advance(TimeSpan.FromMinutes(2));

        Assert.Equal(1, await factory.Services.Leases.SweepExpiredAsync());

        Assert.Equal(RunStates.Cancelled, (await factory.Services.Runs.GetAsync(claim.Run!.Id)).State);
        var after = await factory.Services.Tasks.GetAsync(task.Id);
        Assert.Equal(TaskStates.Ready, after.State);
        Assert.Equal(0, after.Attempts);
        var next = await factory.Services.Claims.ClaimAsync(await factory.BuilderAsync("healthy"), false);
        Assert.Equal(task.Id, next.Task!.Id);
    }

    [Fact]
    public async Task Lease_IsRenewedByAWrite_AtMostOnceASecond()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync(PacketText.Simple(extraFrontMatter: "lease_minutes: 10"));
        var builder = await factory.BuilderAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        var runs = factory.Services.Runs;
        var evidence = factory.Services.Evidence;
        var lines = factory.Services.Config.Lines;
        var start = factory.Time.GetUtcNow();

        factory.Time.Advance(TimeSpan.FromSeconds(5));
        var first = await evidence.RecordEvidenceAsync(
            builder,
            new EvidenceInput(view.RunId!.Value, "plan", "first"),
            lines
        );
        Assert.Equal(Iso.Text(start.AddSeconds(5).AddMinutes(10)), first.LeaseExpiresAt);

        factory.Time.Advance(TimeSpan.FromMilliseconds(400)); // a burst: the lease renewed a moment ago stands
        var burst = await evidence.RecordEvidenceAsync(
            builder,
            new EvidenceInput(view.RunId.Value, "plan", "second"),
            lines
        );
        Assert.Equal(first.LeaseExpiresAt, burst.LeaseExpiresAt);

        factory.Time.Advance(TimeSpan.FromSeconds(2));
        var later = await evidence.RecordEvidenceAsync(
            builder,
            new EvidenceInput(view.RunId.Value, "plan", "third"),
            lines
        );
        Assert.Equal(Iso.Text(start.AddSeconds(7.4).AddMinutes(10)), later.LeaseExpiresAt);
        Assert.Equal(later.LeaseExpiresAt, Iso.Text((await runs.GetAsync(view.RunId.Value)).LeaseExpiresAt!.Value));
    }

    [Fact]
    public async Task Evidence_OnALeaseThatRanOutSinceTheLastSweep_IsRefused_AndTheRunExpires()
    {
        // record_evidence sweeps expired leases at most once a second; the caller's own run is checked in
        // the write itself, so a lease that ran out a moment ago is never renewed.
        using var factory = await CreateFactoryAsync();
        var task = await factory.ApprovedTaskAsync(PacketText.Simple(extraFrontMatter: "lease_minutes: 0.005"));
        var builder = await factory.BuilderAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        var runs = factory.Services.Runs;
        var evidence = factory.Services.Evidence;
        await evidence.RecordEvidenceAsync(
            builder,
            new EvidenceInput(view.RunId!.Value, "plan", "first step"),
            factory.Services.Config.Lines
        );
        factory.Time.Advance(TimeSpan.FromMilliseconds(500)); // the 0.3 s lease ran out; the next sweep is not due yet

        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            evidence.RecordEvidenceAsync(
                builder,
                new EvidenceInput(view.RunId.Value, "plan", "too late"),
                factory.Services.Config.Lines
            )
        );

        Assert.Contains($"Run {view.RunId}'s lease expired", e.Message);
        Assert.Equal(RunStates.Expired, (await runs.GetAsync(view.RunId.Value)).State);
        Assert.DoesNotContain(await evidence.ForRunAsync(view.RunId.Value), item => item.Summary == "too late");
        Assert.Equal(TaskStates.Ready, (await factory.Services.Tasks.GetAsync(task.Id)).State);
    }

    [Fact]
    public async Task Declare_AfterTheLeaseExpired_IsRefusedSayingSo()
    {
        using var factory = await CreateFactoryAsync();
        await factory.ApprovedTaskAsync(PacketText.Simple(extraFrontMatter: "lease_minutes: 0.5"));
        var builder = await factory.BuilderAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        factory.Time.Advance(TimeSpan.FromMinutes(1));

        var e = await Assert.ThrowsAsync<LedgerException>(() =>
            factory.Services.Gate.DeclareAsync(
                builder,
                new DeclarationInput(view.RunId!.Value, "ESCALATE", "stuck", Question: "which API?")
            )
        );

        Assert.Contains($"Run {view.RunId}'s lease expired", e.Message);
        Assert.Empty(await factory.Services.Declarations.ForRunAsync(view.RunId!.Value));
    }

    [Fact]
    public async Task Expiry_TheNextPacketStartsFromTheExpiredRunsHead()
    {
        using var factory = await CreateFactoryAsync();
        var task = await factory.ApprovedTaskAsync(PacketText.Simple(extraFrontMatter: "lease_minutes: 1"));
        var first = await factory.BuilderAsync("first");
        var view = await factory.Services.Packets.GetTaskPacketAsync(first, null, false);
        var workspace = new GitRunner.Options { WorkingDirectory = view.Workspace };
        await File.WriteAllTextAsync(Path.Combine(view.Workspace!, "src", "app.txt"), "half done\n");
        await GitRunner.OutputAsync(["commit", "--quiet", "-am", "wip"], workspace);
        var head = await GitRunner.OutputAsync(["rev-parse", "HEAD"], workspace);
        // What the gate does when it snapshots a run: the head goes to the run's ref in the mirror and to runs.head_sha.
        var mirror = factory.Services.Mirrors.PathFor(task.Repo);
        await GitRunner.OutputAsync(
            ["fetch", "--quiet", view.Workspace!, $"HEAD:{view.RunRef}"],
            new GitRunner.Options { GitDir = mirror }
        );
        await factory.Services.Db.WriteAsync(
            "server:test-gate",
            w =>
                w.ExecuteAsync(
                    "UPDATE runs SET head_sha = @head WHERE id = @id",
                    SqlArgs.Of(new { head, id = view.RunId })
                )
        );

        factory.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(1, await factory.Services.Leases.SweepExpiredAsync());
        Assert.Equal(1, (await factory.Services.Tasks.GetAsync(task.Id)).Attempts);
        factory.Time.Advance(TimeSpan.FromMinutes(1)); // past the retry backoff
        var next = await factory.Services.Packets.GetTaskPacketAsync(await factory.BuilderAsync("second"), null, false);

        Assert.Equal(task.Id, next.TaskId);
        Assert.Equal(head, next.StartSha);
        Assert.Equal(task.BaseSha, next.BaseSha);
        Assert.Equal(
            head,
            await GitRunner.OutputAsync(
                ["rev-parse", "HEAD"],
                new GitRunner.Options { WorkingDirectory = next.Workspace }
            )
        );
        Assert.Equal("half done\n", await File.ReadAllTextAsync(Path.Combine(next.Workspace!, "src", "app.txt")));
        Assert.Contains($"Run {view.RunId} by first ended expired", next.PreviousAttempt);
        Assert.Contains(head, next.PreviousAttempt);
    }
}

public sealed class LeaseTestsOnSqlite() : LeaseTests(LedgerEngine.Sqlite);

public sealed class LeaseTestsOnPostgreSql() : LeaseTests(LedgerEngine.PostgreSql);
