using System.Collections.Concurrent;
using System.Diagnostics;
using FactoryMcp.Bench.Dispatch;
using FactoryMcp.Bench.Processes;
using FactoryMcp.Bench.Report;
using ModelContextProtocol.Client;

namespace FactoryMcp.Bench.Http;

/// <summary>
/// Issue 18's write target through HTTP: <see cref="Writers"/> agents (fewer if the run has fewer), each with its own token, SDK client and open run,
/// call record_evidence back to back for the run's duration, all at once, against the same `factory serve --http`.
/// The total rate is set beside the disk's fsync rate measured in the ledger's folder just before: with group commit
/// the writers share transactions, so the total may pass the fsync rate (target: twice it).
/// </summary>
internal static class HttpEvidenceWriters
{
    public const int Writers = 8;

    public static async Task<IReadOnlyList<Figure>> MeasureAsync(
        HttpServer server,
        IReadOnlyList<(string Name, string Token)> tokens,
        IEnumerable<(string Agent, long Run, long Task)> claims,
        string ledgerFolder,
        string? protocol,
        BenchOptions options,
        ConcurrentBag<string> errors
    )
    {
        // Each writer records on its agent's newest claim (the run it holds).
        var writers = tokens
            .Select(t =>
                (t.Token, Run: claims.Where(c => c.Agent == t.Name).Select(c => c.Run).DefaultIfEmpty(0).Max())
            )
            .Where(w => w.Run > 0)
            .Take(Writers)
            .ToList();
        var n = writers.Count;
        List<double> rates = [],
            fsyncs = [],
            ratios = [],
            serverCpu = [],
            clientCpu = [];
        if (n == 0)
            return [];
        for (var r = 0; r < options.Runs; r++)
        {
            var fsync = FsyncRate.Measure(ledgerFolder, TimeSpan.FromSeconds(1));
            var clients = await Task.WhenAll(
                writers.Select(w => SdkClients.HttpAsync(server.Endpoint, w.Token, protocol))
            );
            try
            {
                // Warm each client's connection first.
                await Task.WhenAll(clients.Select((c, i) => RecordAsync(c, writers[i].Run, -1, errors)));
                var serverBefore = ProcessCpu.Milliseconds(server.ProcessId);
                var clientBefore = ProcessCpu.Milliseconds(Environment.ProcessId);
                var until = Stopwatch.StartNew();
                var counts = await Task.WhenAll(
                    clients.Select(
                        (client, i) =>
                            Task.Run(async () =>
                            {
                                var n = 0;
                                while (until.Elapsed < options.Duration)
                                {
                                    await RecordAsync(client, writers[i].Run, n, errors);
                                    n++;
                                }
                                return n;
                            })
                    )
                );
                var rate = counts.Sum() / until.Elapsed.TotalSeconds;
                serverCpu.Add((ProcessCpu.Milliseconds(server.ProcessId) - serverBefore) / counts.Sum());
                clientCpu.Add((ProcessCpu.Milliseconds(Environment.ProcessId) - clientBefore) / counts.Sum());
                rates.Add(rate);
                fsyncs.Add(fsync);
                ratios.Add(rate / fsync);
            }
            finally
            {
                foreach (var client in clients)
                    await client.DisposeAsync();
            }
        }
        return
        [
            new Figure(
                $"{n} agents over HTTP, record_evidence/s in total",
                "/s",
                rates,
                Note: $"each agent sequential on its own run for {options.Duration.TotalSeconds:0.#} s, all at once; synchronous=FULL"
            ),
            new Figure(
                "disk fsync rate beside it",
                "/s",
                fsyncs,
                Note: "4 KiB write + fsync in the ledger's folder, 1 s"
            ),
            Figure.Bounded(
                $"{n} agents over HTTP, record_evidence per fsync",
                "×",
                ratios,
                2,
                atMost: false,
                "the total rate over the disk's fsync rate, per repetition (issue 18: ≥ 2×)"
            ),
            new Figure(
                $"{n} agents over HTTP, server CPU per record_evidence",
                "ms",
                serverCpu,
                Note: "user+system CPU of factory serve --http over the run, per call: load on the machine moves rates, not this"
            ),
            new Figure(
                $"{n} agents over HTTP, client CPU per record_evidence",
                "ms",
                clientCpu,
                Note: "the same for the benchmark's own process (the 8 SDK clients), which shares the cores"
            ),
        ];
    }

    private static async Task RecordAsync(McpClient client, long run, int step, ConcurrentBag<string> errors)
    {
        try
        {
            var result = await client.CallToolAsync(
                "record_evidence",
                new Dictionary<string, object?>
                {
                    ["run_id"] = run,
                    ["kind"] = "log",
                    ["summary"] = $"write {step}",
                    ["content"] = "one line of output\n",
                }
            );
            if (result.IsError == true)
                errors.Add($"record_evidence: {result.Content.FirstOrDefault()}");
        }
        catch (Exception e)
        {
            errors.Add($"record_evidence: {e.Message}");
        }
    }
}
