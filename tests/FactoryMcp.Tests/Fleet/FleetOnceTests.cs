using System.Text.Json;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tests.Shipping;
using FactoryMcp.Tools.Hosting;

namespace FactoryMcp.Tests.Fleet;

/// <summary>
/// "Once" across a fleet (issue 21): two factory processes on one PostgreSQL ledger, here two
/// <see cref="FactoryServices"/> in one test process so they can share one fake clock, doing the same periodic
/// work at the same moment. An escalation is announced once, and an expired lease is expired (its attempt
/// counted) once, however many processes look at it together.
/// </summary>
public sealed class FleetOnceTests
{
    private const int Agents = 6;

    [Fact]
    public async Task Escalations_AnnouncedByTwoProcessesAtOnce_AreEachNotifiedExactlyOnce()
    {
        using var factory = await TestFactory.CreateAsync(engine: LedgerEngine.PostgreSql);
        var events = Path.Combine(factory.Root, "events.jsonl");
        await File.WriteAllTextAsync(
            factory.Paths.FactoryConfig,
            $"notifications:\n  escalation: printf '%s\\n' \"$FACTORY_EVENT_JSON\" >> '{events}'\n"
        );
        for (var i = 0; i < Agents; i++)
            await factory.ApprovedTaskAsync();
        var other = FactoryServices.Open(factory.Paths, factory.Time);
        var agents = new List<InMemoryMcp>();
        for (var i = 0; i < Agents; i++)
            agents.Add(await InMemoryMcp.ConnectAsync(factory, await factory.BuilderAsync($"builder-{i}")));
        try
        {
            var runs = new List<long>();
            foreach (var agent in agents)
                runs.Add(
                    (await agent.CallAsync("get_task_packet", []))
                        .StructuredContent!.Value.GetProperty("run_id")
                        .GetInt64()
                );
            // Each declaration flushes the outbox in its own process while the other process flushes in a loop.
            using var done = new CancellationTokenSource();
            var otherFlushes = Task.Run(async () =>
            {
                var delivered = 0;
                while (!done.IsCancellationRequested)
                    delivered += await other.Notifier.FlushEscalationsAsync();
                return delivered;
            });
            await Task.WhenAll(
                agents.Select(
                    (agent, i) =>
                        agent.CallAsync(
                            "declare_terminal_state",
                            new()
                            {
                                ["run_id"] = runs[i],
                                ["state"] = "ESCALATE",
                                ["summary"] = $"stuck {i}",
                                ["question"] = $"question {i}?",
                            }
                        )
                )
            );
            done.Cancel();
            await otherFlushes;
            Assert.Equal(0, await factory.Services.Notifier.FlushEscalationsAsync());
            Assert.Equal(0, await other.Notifier.FlushEscalationsAsync());

            var sent = (await File.ReadAllLinesAsync(events))
                .Select(l =>
                    JsonDocument.Parse(l).RootElement.GetProperty("details").GetProperty("escalation_id").GetInt64()
                )
                .ToList();
            Assert.Equal(Agents, sent.Count);
            Assert.Equal(Agents, sent.Distinct().Count());
            Assert.Equal(
                0L,
                await factory.Services.Db.QuerySingleOrDefaultAsync<long>(
                    "SELECT count(*) FROM escalations WHERE notified_at IS NULL"
                )
            );
        }
        finally
        {
            foreach (var agent in agents)
                await agent.DisposeAsync();
        }
    }

    [Fact]
    public async Task ExpiredLeases_SweptByTwoProcessesAtOnce_AreExpiredOnce_EachAttemptCountedOnce()
    {
        using var factory = await TestFactory.CreateAsync(engine: LedgerEngine.PostgreSql);
        for (var i = 0; i < Agents; i++)
            await factory.ApprovedTaskAsync();
        var other = FactoryServices.Open(factory.Paths, factory.Time);
        for (var i = 0; i < Agents; i++)
        {
            await using var agent = await InMemoryMcp.ConnectAsync(factory, await factory.BuilderAsync($"builder-{i}"));
            var claimed = await agent.CallAsync("get_task_packet", []);
            Assert.True(claimed.IsError != true, Redeclare.TextOf(claimed));
        }
        Assert.Equal(
            (long)Agents,
            await factory.Services.Db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM runs WHERE state = 'open'")
        );

        factory.Time.Advance(TimeSpan.FromDays(1)); // past every lease (the fake clock is both processes' clock)
        await Task.WhenAll(
            Enumerable
                .Range(0, 4)
                .Select(i => Task.Run(() => (i % 2 == 0 ? factory.Services : other).Leases.SweepExpiredAsync()))
        );

        var db = factory.Services.Db;
        Assert.Equal(
            (long)Agents,
            await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM runs WHERE state = 'expired'")
        );
        Assert.Equal(
            (long)Agents,
            await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM audit WHERE action = 'run.lease_expired'")
        );
        Assert.Equal(0L, await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM runs WHERE state = 'open'"));
        Assert.Equal(0, await factory.Services.Leases.SweepExpiredAsync() + await other.Leases.SweepExpiredAsync());
        Assert.Equal(
            (long)Agents,
            await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM audit WHERE action = 'run.lease_expired'")
        );
    }

    [Fact]
    public async Task AShipRecordedByTwoProcessesAtOnce_IsOneEvent_AnnouncedOnce_AndDraftedOncePerKind()
    {
        var (gate, review) = await ShippingHarness.ApprovedAsync(engine: LedgerEngine.PostgreSql);
        using var _ = gate;
        var factory = gate.Factory;
        var events = Path.Combine(factory.Root, "shipped.jsonl");
        await File.WriteAllTextAsync(
            factory.Paths.FactoryConfig,
            $"declare_wait_seconds: 0\nnotifications:\n  shipped: printf '%s\\n' \"$FACTORY_EVENT_JSON\" >> '{events}'\n"
        );
        var other = FactoryServices.Open(factory.Paths, factory.Time);
        FactoryServices[] processes = [factory.Services, other];

        // A merged-PR webhook on one process and a human's `factory ship` on the other, at the same moment, repeated.
        var ships = await Task.WhenAll(
            Enumerable
                .Range(0, 6)
                .Select(i =>
                    Task.Run(() =>
                        processes[i % 2]
                            .Ship.ShipAsync(
                                "human:tester",
                                gate.RunId,
                                review.ReviewedSha!,
                                i % 2 == 0 ? "cli" : "webhook",
                                "https://github.com/acme/app/pull/9"
                            )
                    )
                )
        );
        Assert.Single(ships.Select(s => s.Event.Id).Distinct());
        Assert.Equal(1, ships.Count(s => s.Created));
        Assert.Single(await File.ReadAllLinesAsync(events)); // announced by the one process that recorded it

        // Both processes' content bridges drain at once, several times: each kind of draft is made once.
        var drains = await Task.WhenAll(
            Enumerable.Range(0, 6).Select(i => Task.Run(() => processes[i % 2].Content.DrainAsync(includeTest: true)))
        );
        Assert.Equal(3, drains.Sum(d => d.DraftsCreated));
        var db = factory.Services.Db;
        Assert.Equal(1L, await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM shipped_events"));
        Assert.Equal(3L, await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM drafts"));
        Assert.Equal(
            3L,
            await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM audit WHERE action = 'draft.created'")
        );
        Assert.Equal(
            1L,
            await db.QuerySingleOrDefaultAsync<long>("SELECT count(*) FROM audit WHERE action = 'shipped'")
        );
    }

    [Fact]
    public async Task WorkspacesCollectedByTwoProcessesAtOnce_AreEachDeletedByOne_AndNeitherFails()
    {
        using var factory = await TestFactory.CreateAsync(engine: LedgerEngine.PostgreSql);
        const int tasks = 8;
        var workspaces = new List<string>();
        for (var i = 0; i < tasks; i++)
        {
            var task = await factory.ApprovedTaskAsync();
            var claimed = await factory.Services.Packets.GetTaskPacketAsync(
                await factory.BuilderAsync($"builder-{i}"),
                null,
                false
            );
            workspaces.Add(claimed.Workspace!);
            await factory.Services.Intake.CancelAsync(TestFactory.Human, task.Id, "not needed");
        }
        factory.Time.Advance(TimeSpan.FromDays(30)); // past every line's keep_days
        var other = FactoryServices.Open(factory.Paths, factory.Time);

        // Several rounds, each with big enough folders that the two collectors' deletions overlap in time.
        for (var round = 0; round < 3; round++)
        {
            foreach (var workspace in workspaces)
                for (var d = 0; d < 10; d++)
                {
                    var dir = Directory.CreateDirectory(Path.Combine(workspace, $"d{d}")).FullName;
                    for (var f = 0; f < 40; f++)
                        await File.WriteAllTextAsync(Path.Combine(dir, $"f{f}.txt"), "left behind");
                }
            var reports = await Task.WhenAll(
                Task.Run(() => factory.Services.Collector().CollectAsync(dryRun: false)),
                Task.Run(() => other.Collector().CollectAsync(dryRun: false))
            );
            var removed = reports.SelectMany(r => r.Removed.Select(x => x.Path)).ToList();
            // Each folder deleted, and reported, by exactly one of the two.
            Assert.Equal(workspaces.Order(), removed.Order());
            Assert.All(workspaces, w => Assert.False(Directory.Exists(w), w));
        }
        var trash = Path.Combine(factory.Paths.RunsFolder, ".trash");
        Assert.Empty(Directory.GetDirectories(trash));

        // A collector killed mid-deletion leaves its folder in the trash under its process id: the next collector
        // deletes it. One whose process still runs is left to it.
        var exited = System.Diagnostics.Process.Start("true")!;
        await exited.WaitForExitAsync();
        var abandoned = Directory.CreateDirectory(Path.Combine(trash, $"{exited.Id}-abandoned")).FullName;
        await File.WriteAllTextAsync(Path.Combine(abandoned, "half.txt"), "x");
        var running = Directory.CreateDirectory(Path.Combine(trash, "1-in-progress")).FullName;
        await other.Collector().CollectAsync(dryRun: false);
        Assert.False(Directory.Exists(abandoned));
        Assert.True(Directory.Exists(running));
    }
}
