using System.Diagnostics;
using System.Text.RegularExpressions;
using FactoryMcp.Bench.Ledgers;
using FactoryMcp.Bench.Processes;
using FactoryMcp.ChildProcesses;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Bench.Fleet;

/// <summary>
/// The fleet's parts for <see cref="FleetBench"/>: starts `factory worker` processes and `factory serve --http
/// --no-validate` replicas in the ledger's repository, and is the builder agent (claims, changes a file, declares)
/// in process, reading the jobs' progress from the ledger.
/// </summary>
internal sealed partial class FleetRig(
    string factory,
    string repository,
    IReadOnlyDictionary<string, string?> environment,
    BenchLedger ledger
) : IAsyncDisposable
{
    private readonly List<FleetWorker> started = [];
    private Caller? builder;

    public BenchLedger Ledger => ledger;

    /// <summary>A job as the ledger records it.</summary>
    public sealed class JobRow
    {
        public long Id { get; init; }
        public string State { get; init; } = "";
        public string? Owner { get; init; }
        public long Starts { get; init; }
    }

    public async Task<FleetWorker> StartWorkerAsync()
    {
        var process = await ChildProcess.StartAsync(factory, ["worker", "--concurrency", "1"], repository, environment);
        try
        {
            var line = await process.WaitForLineAsync(WorkerLine(), TimeSpan.FromSeconds(90));
            var worker = new FleetWorker(process, line.Groups[1].Value);
            started.Add(worker);
            return worker;
        }
        catch
        {
            await process.DisposeAsync();
            throw;
        }
    }

    public ServerCommand Replica() =>
        new(factory, ["serve", "--http", "--no-validate", "--urls", "http://127.0.0.1:0"], environment, repository);

    /// <summary>Claims <paramref name="count"/> runs (each with its workspace), records a plan and changes a file in each.</summary>
    public async Task<List<long>> PrepareAsync(int count)
    {
        var services = ledger.Services;
        builder ??= await services.Agents.AuthenticateAsync("builder", null, null);
        List<long> runs = [];
        for (var i = 0; i < count; i++)
        {
            var packet = await services.Packets.GetTaskPacketAsync(builder, null, newRun: true);
            var runId =
                packet.RunId
                ?? throw new InvalidOperationException("The fleet benchmark's ledger ran out of tasks to claim.");
            await services.Evidence.RecordEvidenceAsync(
                builder,
                new EvidenceInput(runId, "plan", "change a file"),
                services.Config.Lines
            );
            await File.WriteAllTextAsync(
                Path.Combine(packet.Workspace!, "src", "app.txt"),
                $"changed by run {runId}\n"
            );
            runs.Add(runId);
        }
        return runs;
    }

    /// <summary>Declares PR_READY on one run (declare_wait_seconds is 0: the call queues the job and returns).</summary>
    public async Task DeclareAsync(long runId)
    {
        var result = await ledger.Services.Gate.DeclareAsync(
            builder!,
            new DeclarationInput(runId, TerminalStates.PrReady, "changed a file")
        );
        if (result.Outcome is not ("validating" or "accepted"))
            throw new InvalidOperationException(
                $"The declaration of run {runId} gave {result.Outcome}: {result.Message}"
            );
    }

    /// <summary>Declares every run at once and waits for every job's decision: the seconds it took, and how many were refused.</summary>
    public async Task<(double Seconds, long Refused)> ValidateAsync(IReadOnlyList<long> runs)
    {
        var before = await LastJobAsync();
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(runs.Select(r => Task.Run(() => DeclareAsync(r))));
        var decided = await UntilDecidedAsync(before, runs.Count);
        return (clock.Elapsed.TotalSeconds, decided.Count(j => j.State != "accepted"));
    }

    public async Task<long> LastJobAsync() =>
        await ledger.Db.QuerySingleOrDefaultAsync<long?>("SELECT max(id) FROM validation_jobs") ?? 0;

    public async Task<IReadOnlyList<JobRow>> JobsAfterAsync(long before) =>
        (
            await ledger.Db.QueryAsync<JobRow>(
                "SELECT id, state, owner, starts FROM validation_jobs WHERE id > @before ORDER BY id",
                SqlArgs.Of(new { before })
            )
        ).ToList();

    public Task<IReadOnlyList<JobRow>> UntilDecidedAsync(long before, int count) =>
        UntilAsync(
            async () =>
            {
                var jobs = await JobsAfterAsync(before);
                return jobs.Count >= count && jobs.All(j => j.State is "accepted" or "refused") ? jobs : null;
            },
            $"{count} validation job(s) to be decided"
        );

    /// <summary>Polls the ledger every 10 ms until <paramref name="probe"/> answers; fails with the workers' logs after 5 minutes.</summary>
    public async Task<T> UntilAsync<T>(Func<Task<T?>> probe, string what)
        where T : class
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(5))
        {
            if (await probe() is { } answer)
                return answer;
            await Task.Delay(10);
        }
        throw new TimeoutException(
            $"Waited 5 minutes for {what}. Workers' last lines:\n"
                + string.Join('\n', started.SelectMany(w => w.Stderr.TakeLast(10)))
        );
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in started)
            await worker.DisposeAsync();
    }

    [GeneratedRegex(@"Worker (\S+) validating jobs")]
    private static partial Regex WorkerLine();
}
