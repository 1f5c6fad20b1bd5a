using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Server.Hosting;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace FactoryMcp.Tests.Http;

/// <summary>An HTTP server's announcement loop, on the ledger's clock (a FakeTimeProvider the test moves).</summary>
public sealed class AnnounceLoopTests
{
    [Fact]
    public async Task EscalationRaisedOutsideACall_IsAnnouncedWhenTheLedgersClockReachesTheNextTick()
    {
        using var root = new TempDirectory("announce");
        var repo = await TempRepo.CreateAsync(root.Combine("app"));
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 21, 9, 0, 0, TimeSpan.Zero));
        var paths = new LedgerPaths(Path.Combine(repo.Path, ".factory", "ledger.db"));
        var factory = new FactoryServices(LedgerDatabase.Create(paths, "test", time));
        var received = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var listener = await LocalListener.StartAsync(async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            received.TrySetResult(await reader.ReadToEndAsync());
            context.Response.StatusCode = StatusCodes.Status204NoContent;
        });
        await File.WriteAllTextAsync(paths.FactoryConfig, $"notifications:\n  escalation: {listener.Url}hook\n");

        var human = Caller.LocalHuman("tester");
        var task = await factory.Intake.ProposeAsync(human, PacketText.Simple());
        await factory.Intake.ApproveAsync(human, task.Id);
        var builder = await factory.Agents.AuthenticateAsync("builder-1", null, null);
        var view = await factory.Packets.GetTaskPacketAsync(builder, null, false);
        // A ledger operation outside any MCP call: nothing announces it but the loop.
        await factory.Gate.DeclareAsync(
            builder,
            new DeclarationInput(view.RunId!.Value, "ESCALATE", "unclear", Question: "Which greeting?")
        );

        using var stop = new CancellationTokenSource();
        var loop = HttpHost.AnnounceLoopAsync(factory, stop.Token);
        time.Advance(HttpHost.AnnouncePeriod - TimeSpan.FromSeconds(1));
        Assert.False(received.Task.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Contains("Which greeting?", await received.Task.WaitAsync(TimeSpan.FromSeconds(10)));
        await stop.CancelAsync();
        await loop;
    }
}
