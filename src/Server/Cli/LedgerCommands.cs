using System.CommandLine;
using FactoryMcp.Ledger.Audit;

namespace FactoryMcp.Server.Cli;

/// <summary>ledger verify.</summary>
internal static class LedgerCommands
{
    public static void Add(RootCommand root)
    {
        var ledger = new Command("ledger", "Check the ledger itself.");
        var verify = new Command(
            "verify",
            "Verify the HMAC-chained audit log and that every task and run matches its audited state. Exit 1 names the first bad record."
        );
        verify.SetAction(
            FactoryCli.Handler(
                async (_, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var report = await AuditVerifier.VerifyAsync(factory.Db);
                    if (report.Ok)
                    {
                        await context.Out.WriteLineAsync(
                            $"Ledger verified: {report.Records} audit records, chain intact, head matches, every task and run matches its audit trail."
                        );
                        return 0;
                    }
                    await context.Error.WriteLineAsync(
                        report.FirstBadSeq is { } seq
                            ? $"Ledger verification FAILED: first bad record is {seq}."
                            : "Ledger verification FAILED."
                    );
                    foreach (var problem in report.Problems)
                        await context.Error.WriteLineAsync($"- {problem}");
                    return 1;
                },
                notice: false
            )
        );
        ledger.Subcommands.Add(verify);
        root.Subcommands.Add(ledger);
    }
}
