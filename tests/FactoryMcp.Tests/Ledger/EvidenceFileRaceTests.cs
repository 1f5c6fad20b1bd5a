using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Ledger;

/// <summary>
/// record_evidence(file) against an agent that swaps a folder of its workspace for a symlink while the server
/// reads: the check and the read are one descriptor, so the swap never lets a file outside through.
/// </summary>
public sealed class EvidenceFileRaceTests
{
    private const string Legit = "legit log\n";
    private const int Tries = 150;

    private static async Task<(TestFactory Factory, Caller Builder, long RunId, string Workspace)> ClaimedAsync()
    {
        var factory = await TestFactory.CreateAsync();
        await factory.ApprovedTaskAsync();
        var builder = await factory.BuilderAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        return (factory, builder, view.RunId!.Value, view.Workspace!);
    }

    /// <summary>
    /// Records <c>d/NAME</c> <see cref="Tries"/> times while another thread keeps replacing the real folder
    /// <c>d</c> (holding a small legit NAME) with a symlink to <paramref name="outside"/>. Returns the stored blobs.
    /// </summary>
    private static async Task<(List<byte[]> Stored, int Refused)> RaceAsync(
        TestFactory factory,
        Caller builder,
        long runId,
        string workspace,
        string outside,
        string name
    )
    {
        var d = Path.Combine(workspace, "d");
        var parked = Path.Combine(workspace, "d.real");
        Directory.CreateDirectory(d);
        await File.WriteAllTextAsync(Path.Combine(d, name), Legit);
        using var stop = new CancellationTokenSource();
        var swaps = 0;
        var swapper = new Thread(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    Directory.Move(d, parked);
                    File.CreateSymbolicLink(d, outside);
                    Thread.SpinWait(Random.Shared.Next(20_000));
                    File.Delete(d);
                    Directory.Move(parked, d);
                    Interlocked.Increment(ref swaps);
                    Thread.SpinWait(Random.Shared.Next(20_000));
                }
                catch (IOException) { }
            }
        });
        swapper.Start();
        var stored = new List<byte[]>();
        var refused = 0;
        var blobs = new BlobStore(factory.Paths);
        try
        {
            for (var i = 0; i < Tries; i++)
            {
                try
                {
                    var receipt = await factory.Services.Evidence.RecordEvidenceAsync(
                        builder,
                        new EvidenceInput(runId, "log", $"try {i}", File: $"d/{name}"),
                        factory.Services.Config.Lines
                    );
                    stored.Add(blobs.Read(receipt.BlobSha!));
                }
                catch (LedgerException e)
                {
                    Assert.DoesNotContain(outside + "/", e.Message);
                    refused++;
                }
            }
        }
        finally
        {
            await stop.CancelAsync();
            swapper.Join();
        }
        Assert.True(swaps > 10, $"the swapper made only {swaps} swaps: the race did not run");
        return (stored, refused);
    }

    [Fact]
    public async Task RecordEvidence_WhileAFolderIsSwappedForALinkToTheLedger_NeverStoresTheAuditKey()
    {
        var (factory, builder, runId, workspace) = await ClaimedAsync();
        using var _f = factory;
        var key = await File.ReadAllBytesAsync(factory.Paths.AuditKey);

        var (stored, refused) = await RaceAsync(
            factory,
            builder,
            runId,
            workspace,
            Path.GetDirectoryName(factory.Paths.AuditKey)!,
            Path.GetFileName(factory.Paths.AuditKey)
        );

        Assert.Equal(Tries, stored.Count + refused);
        Assert.NotEmpty(stored);
        Assert.All(stored, bytes => Assert.Equal(Legit, System.Text.Encoding.UTF8.GetString(bytes)));
        Assert.DoesNotContain(stored, bytes => bytes.AsSpan().SequenceEqual(key));
    }

    [Fact]
    public async Task RecordEvidence_WhileAFolderIsSwappedForALinkToAHugeFile_NeverStoresOverTheLimit()
    {
        var (factory, builder, runId, workspace) = await ClaimedAsync();
        using var _f = factory;
        var outside = Path.Combine(factory.Root, "outside");
        Directory.CreateDirectory(outside);
        await using (var big = File.Create(Path.Combine(outside, "big.log")))
            big.SetLength(EvidenceLedger.MaxFileBytes + 4096);

        var (stored, _) = await RaceAsync(factory, builder, runId, workspace, outside, "big.log");

        Assert.NotEmpty(stored);
        Assert.All(
            stored,
            bytes => Assert.True(bytes.Length <= EvidenceLedger.MaxFileBytes, $"{bytes.Length} bytes stored")
        );
        Assert.All(stored, bytes => Assert.Equal(Legit, System.Text.Encoding.UTF8.GetString(bytes)));
    }

    [Fact]
    public async Task RecordEvidence_OutsidePaths_AllReadTheSame_WhetherTheyExistOrNot()
    {
        var (factory, builder, runId, _) = await ClaimedAsync();
        using var _f = factory;
        string Message(string file) =>
            Assert
                .ThrowsAsync<LedgerException>(() =>
                    factory.Services.Evidence.RecordEvidenceAsync(
                        builder,
                        new EvidenceInput(runId, "log", "probe", File: file),
                        factory.Services.Config.Lines
                    )
                )
                .GetAwaiter()
                .GetResult()
                .Message.Replace(file, "FILE");

        Assert.Equal(Message("/etc/passwd"), Message("/etc/no-such-file-here"));
        Assert.Equal(Message("../../.factory/ledger.db"), Message("../../.factory/no-such.db"));
    }
}
