using System.CommandLine;

namespace FactoryMcp.Server.Cli;

/// <summary>gc [--dry-run].</summary>
internal static class GcCommand
{
    public static void Add(RootCommand root)
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Only list what would be deleted." };
        var gc = new Command(
            "gc",
            "Reclaim space: workspaces of tasks ended more than keep_days ago, then more while over max_workspace_bytes, and stale validation checkouts."
        )
        {
            dryRun,
        };
        gc.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var report = await factory.Collector().CollectAsync(parse.GetValue(dryRun), ct);
                    foreach (var (path, bytes, reason) in report.Removed)
                        await context.Out.WriteLineAsync(
                            $"{(report.DryRun ? "would delete" : "deleted")} {path} ({bytes / 1024} KiB): {reason}"
                        );
                    await context.Out.WriteLineAsync(
                        $"{report.Removed.Count} folder(s), {report.Removed.Sum(r => r.Bytes) / 1024} KiB{(report.DryRun ? " would be" : "")} reclaimed; runs folder {report.BytesAfter / 1024} KiB."
                    );
                    return 0;
                }
            )
        );
        root.Subcommands.Add(gc);
    }
}
