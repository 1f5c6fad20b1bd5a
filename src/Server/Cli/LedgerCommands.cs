using System.CommandLine;
using FactoryMcp.Ledger.Audit;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Server.Cli;

/// <summary>ledger verify, checkpoint, copy.</summary>
internal static class LedgerCommands
{
    public static void Add(RootCommand root)
    {
        var ledger = new Command("ledger", "Check the ledger itself.");
        var verify = new Command(
            "verify",
            "Verify the HMAC-chained audit log and that every audited row (task, run, evidence, verdict, ...) matches the digest its last audit record holds. Exit 1 names the first bad record and every row edited, inserted or deleted behind the factory's back."
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
                            $"Ledger verified: {report.Records} audit records, chain intact, head matches, every audited row matches its last audit record."
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

        var checkpoint = new Command(
            "checkpoint",
            "Print a signed statement of the audit chain's head (ledger id, last record, its HMAC, time) to keep outside the ledger."
        );
        checkpoint.SetAction(
            FactoryCli.Handler(
                async (_, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    await context.Out.WriteLineAsync((await AuditCheckpoint.TakeAsync(factory.Db, ct)).ToString());
                    return 0;
                },
                notice: false
            )
        );
        ledger.Subcommands.Add(checkpoint);

        var to = new Option<string>("--to")
        {
            Description =
                "The PostgreSQL database to copy into: postgresql://user@host:5432/db (empty; password from PGPASSWORD, ~/.pgpass or FACTORY_LEDGER_PASSWORD_FILE).",
            Required = true,
        };
        var copy = new Command(
            "copy",
            "Copy this SQLite ledger (tasks, runs, evidence, blobs, audit chain, registrations) into an empty PostgreSQL database, then verify the copy."
        )
        {
            to,
        };
        copy.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var report = await LedgerCopy.ToPostgreSqlAsync(factory.Db, parse.GetValue(to)!, ct);
                    var rows = report.Rows;
                    await context.Out.WriteLineAsync(
                        $"Copied to {report.Target.LedgerFile}: {rows.GetValueOrDefault("tasks")} tasks, {rows.GetValueOrDefault("runs")} runs, {rows.GetValueOrDefault("evidence")} evidence items, {report.Blobs} blobs, {rows.GetValueOrDefault("audit")} audit records, {rows.GetValueOrDefault("agents")} registrations."
                    );
                    var verified = await AuditVerifier.VerifyAsync(LedgerDatabase.Open(report.Target));
                    if (!verified.Ok)
                    {
                        await context.Error.WriteLineAsync("The copy does not verify:");
                        foreach (var problem in verified.Problems)
                            await context.Error.WriteLineAsync($"- {problem}");
                        return 1;
                    }
                    await context.Out.WriteLineAsync(
                        $"Copy verified: {verified.Records} audit records, chain intact. Point --ledger, FACTORY_LEDGER or `ledger:` in factory.yaml at it; the SQLite ledger was left as it was."
                    );
                    return 0;
                },
                notice: false
            )
        );
        ledger.Subcommands.Add(copy);
        root.Subcommands.Add(ledger);
    }
}
