using System.CommandLine;
using FactoryMcp.Ledger.Fleet;
using FactoryMcp.Server.Hosting;

namespace FactoryMcp.Server.Cli;

/// <summary>worker [--concurrency N], fleet [--json].</summary>
internal static class FleetCommands
{
    public static void Add(RootCommand root)
    {
        var concurrency = new Option<int?>("--concurrency")
        {
            Description =
                "Validation jobs this worker runs at once (default: validation_concurrency in factory.yaml); it may use that many of the host's slots.",
        };
        var worker = new Command(
            "worker",
            "Only validate: take validation jobs from the ledger (usually postgresql://...), run them sandboxed as a server does, until SIGTERM."
        )
        {
            concurrency,
        };
        worker.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    if (parse.GetValue(concurrency) is { } n && n is < 1 or > 64)
                        throw new UsageException("--concurrency must be between 1 and 64.");
                    var paths = await context.PathsAsync(ct);
                    return await WorkerHost.RunAsync(paths, parse.GetValue(concurrency), context.Error, ct);
                },
                notice: false
            )
        );
        root.Subcommands.Add(worker);

        var json = CliOutput.JsonOption();
        var fleet = new Command(
            "fleet",
            "Every replica and worker on this ledger: host, version, last heartbeat, jobs running and done, alive or lost; and what waits in each line."
        )
        {
            json,
        };
        fleet.SetAction(
            FactoryCli.Handler(
                async (parse, context, ct) =>
                {
                    var factory = await context.OpenAsync(ct);
                    var view = await factory.Fleet.ViewAsync(ct);
                    if (parse.GetValue(json))
                        await CliOutput.WriteJsonAsync(context.Out, view, CliJson.Default.FleetView);
                    else
                        await WriteAsync(context.Out, view);
                    return 0;
                },
                notice: false
            )
        );
        root.Subcommands.Add(fleet);
    }

    private static async Task WriteAsync(TextWriter output, FleetView view)
    {
        if (view.Processes.Count == 0)
            await output.WriteLineAsync(
                "No replica or worker has registered (`factory serve --http`, `factory up` and `factory worker` do)."
            );
        else
        {
            await output.WriteLineAsync(
                $"{"STATE", -8} {"ROLE", -7} {"HOST", -20} {"PID", 7} {"VERSION", -10} {"HEARTBEAT", -12} {"RUNNING", 7} {"DONE", 6}  ID"
            );
            foreach (var p in view.Processes)
                await output.WriteLineAsync(
                    $"{p.State, -8} {RoleOf(p), -7} {CliOutput.Fit(p.Host, 20), -20} {p.Pid, 7} {CliOutput.Fit(p.Version, 10), -10} {Ago(view.Now - p.LastHeartbeat), -12} {p.JobsRunning, 7} {p.JobsDone, 6}  {p.Id}"
                );
        }
        await output.WriteLineAsync();
        if (view.Queues.Count == 0)
        {
            await output.WriteLineAsync("Queues: nothing waits in any line.");
            return;
        }
        await output.WriteLineAsync(
            $"{"LINE", -20} {"TASKS QUEUED", 12} {"VALIDATIONS QUEUED", 18} {"VALIDATING", 10}"
        );
        foreach (var q in view.Queues)
            await output.WriteLineAsync(
                $"{CliOutput.Fit(q.Line, 20), -20} {q.TasksQueued, 12} {q.ValidationsQueued, 18} {q.ValidationsRunning, 10}"
            );
    }

    private static string RoleOf(FleetProcess p) => p.Role == FleetLedger.Server && !p.Validates ? "front" : p.Role;

    /// <summary>"4s ago", "3m ago", "2h ago", "5d ago".</summary>
    internal static string Ago(TimeSpan age) =>
        age.TotalSeconds < 1 ? "just now"
        : age.TotalMinutes < 1 ? $"{(int)age.TotalSeconds}s ago"
        : age.TotalHours < 1 ? $"{(int)age.TotalMinutes}m ago"
        : age.TotalDays < 1 ? $"{(int)age.TotalHours}h ago"
        : $"{(int)age.TotalDays}d ago";
}
