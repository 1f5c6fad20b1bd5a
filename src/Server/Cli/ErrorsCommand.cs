using System.CommandLine;
using System.Globalization;
using FactoryMcp.Ledger.Telemetry;

namespace FactoryMcp.Server.Cli;

/// <summary>errors: production error groups received over OTLP, newest first.</summary>
internal static class ErrorsCommand
{
    public static void Add(RootCommand root)
    {
        var command = new Command(
            "errors",
            "List production errors received over OTLP (intake: otlp): one line per fingerprint with its count, first and last seen, and its signal."
        );
        command.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var groups = await new ErrorGroupLedger(factory.Db).ListAsync(ct);
                    foreach (var g in groups)
                        await context.Out.WriteLineAsync(
                            string.Create(
                                CultureInfo.InvariantCulture,
                                $"{g.Fingerprint[..12]} ×{g.Count} {g.Service} {g.ExceptionType}: {g.Message}{(g.Route.Length > 0 ? $" [{g.Route}]" : "")} — first {g.FirstSeen:yyyy-MM-ddTHH:mm:ssZ}, last {g.LastSeen:yyyy-MM-ddTHH:mm:ssZ}; {(g.SignalId is { } s ? $"signal {s}" : "no signal")}"
                            )
                        );
                    if (groups.Count == 0)
                        await context.Out.WriteLineAsync("No production errors received.");
                    return 0;
                }
            )
        );
        root.Subcommands.Add(command);
    }
}
