using System.Diagnostics;
using FactoryMcp.Ledger.Validation;
using FactoryMcp.Tools.Gate;

namespace FactoryMcp.Tools.Telemetry;

/// <summary>A validation job as a span in its run's trace, with one child per packet command.</summary>
internal static class ValidationSpans
{
    public static Activity? StartJob(ActivityContext? run, ValidationJobRow job) =>
        run is null
            ? null
            : FactoryTelemetry.Source.StartActivity(
                $"validate run {job.RunId}",
                ActivityKind.Internal,
                run.Value,
                tags:
                [
                    new("factory.run.id", job.RunId),
                    new("factory.validation.job.id", job.Id),
                    new("factory.declared_state", job.DeclaredState),
                ]
            );

    public static void EndJob(Activity? span, string? outcome, int problems)
    {
        if (span is null)
            return;
        span.SetTag("factory.validation.outcome", outcome ?? "none");
        span.SetTag("factory.validation.problems", problems);
        if (problems > 0)
            span.SetStatus(ActivityStatusCode.Error, $"{problems} unmet condition(s)");
    }

    /// <summary>One command, as the runner observed it (or found it in the cache), ending now.</summary>
    public static void Command(CommandOutcome outcome)
    {
        if (!FactoryTelemetry.Tracing)
            return;
        var end = DateTimeOffset.UtcNow;
        var program = outcome.Command.Split(' ', 2)[0];
        using var span = FactoryTelemetry.Source.StartActivity(
            $"command {program}",
            ActivityKind.Internal,
            Activity.Current?.Context ?? default,
            tags:
            [
                new("factory.command", outcome.Command.Length <= 500 ? outcome.Command : outcome.Command[..500]),
                new("process.exit.code", outcome.ExitCode),
                new("factory.command.duration", outcome.Duration.TotalSeconds),
                new("factory.command.sandboxed", outcome.Sandboxed),
                new("factory.command.cached", outcome.Cached),
                new("factory.command.timed_out", outcome.TimedOut),
            ],
            startTime: outcome.Cached ? end : end - outcome.Duration
        );
        if (span is null)
            return;
        if (!outcome.Passed)
            span.SetStatus(ActivityStatusCode.Error, outcome.TimedOut ? "timed out" : $"exit {outcome.ExitCode}");
        if (!outcome.Cached)
            span.SetEndTime(end.UtcDateTime);
    }
}
