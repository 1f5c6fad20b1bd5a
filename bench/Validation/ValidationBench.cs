using System.Diagnostics;
using FactoryMcp.Bench.Ledgers;
using FactoryMcp.Bench.Processes;
using FactoryMcp.Bench.Report;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Bench.Validation;

/// <summary>
/// `validation`: what the gate costs beyond the commands it runs. A packet whose only Validation command
/// is `true`; the builder changes a file and declares PR_READY without a head (the server snapshots the
/// workspace), the server's worker validates (head checks, diff, fresh checkout, the command in the
/// sandbox, evidence) and the declaration returns accepted. Overhead = declare → accepted minus the time
/// `/bin/sh -c true` takes on its own.
/// </summary>
internal static class ValidationBench
{
    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchOptions.Parse(args);
        FigureTable.Print(Console.Out, "validation job overhead", await MeasureAsync(options));
        return 0;
    }

    public static async Task<IReadOnlyList<Figure>> MeasureAsync(BenchOptions options)
    {
        var perRun = Math.Max(1, options.Ops / 200);
        using var ledger = await BenchLedger.CreateAsync(options.Directory, 0, withRepository: true);
        await ledger.SeedAsync(options.Runs * perRun);
        var services = ledger.Services;
        var builder = await services.Agents.AuthenticateAsync("builder", null, null);
        using var stop = new CancellationTokenSource();
        // As in `factory serve`: the process's worker takes the jobs its declarations queue.
        var worker = Task.Run(() => services.Worker.RunAsync(stop.Token));

        List<double> total = [],
            command = [],
            overhead = [];
        var sandboxed = "";
        try
        {
            for (var r = 0; r < options.Runs; r++)
            {
                var totals = new List<double>();
                for (var i = 0; i < perRun; i++)
                {
                    var packet = await services.Packets.GetTaskPacketAsync(builder, null, newRun: true);
                    var runId = packet.RunId!.Value;
                    await services.Evidence.RecordEvidenceAsync(
                        builder,
                        new EvidenceInput(runId, "plan", "change a file"),
                        services.Config.Lines
                    );
                    await File.WriteAllTextAsync(
                        Path.Combine(packet.Workspace!, "src", "app.txt"),
                        $"changed by run {runId}\n"
                    );
                    var clock = Stopwatch.StartNew();
                    var result = await services.Gate.DeclareAsync(
                        builder,
                        new DeclarationInput(runId, TerminalStates.PrReady, "changed a file")
                    );
                    totals.Add(clock.Elapsed.TotalMilliseconds);
                    if (result.Outcome != "accepted")
                        throw new InvalidOperationException(
                            $"The declaration was not accepted: {result.Outcome}: {result.Message}"
                        );
                    sandboxed = (await services.Evidence.ForRunAsync(runId)).Last(e => e.Kind == "test_output").Summary;
                }
                var declareMs = totals.Order().ElementAt(totals.Count / 2);
                var commandMs = (await Timing.SequentialAsync(Math.Max(3, perRun), _ => ShAsync("true"))).MedianMs;
                total.Add(declareMs);
                command.Add(commandMs);
                overhead.Add(declareMs - commandMs);
            }
        }
        finally
        {
            await stop.CancelAsync();
            await worker;
        }
        return
        [
            new Figure(
                "validation, declare PR_READY → accepted",
                "ms",
                total,
                Note: $"`true` as the only command; {sandboxed}"
            ),
            new Figure("validation, the command alone (/bin/sh -c true)", "ms", command),
            new Figure(
                "validation, job overhead beyond the command",
                "ms",
                overhead,
                Note: "snapshot, head checks, diff, checkout, sandbox, evidence, wait"
            ),
        ];
    }

    private static Task ShAsync(string line) => ProcessRunner.RunAsync(new ProcessSpec("/bin/sh", ["-c", line]));
}
