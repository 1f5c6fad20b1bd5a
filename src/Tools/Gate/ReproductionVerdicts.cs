using System.Text.RegularExpressions;

namespace FactoryMcp.Tools.Gate;

/// <summary>
/// What a command's ending proves. Exit codes 124 (timeout), 126 (not executable), 127 (not found),
/// pytest's 5 (no tests collected) and "no tests ran"-style output prove nothing either way.
/// </summary>
public static partial class ReproductionVerdicts
{
    public static ReproductionVerdict Classify(CommandOutcome outcome)
    {
        if (outcome.TimedOut || outcome.ExitCode is 124 or 126 or 127)
            return ReproductionVerdict.Inconclusive;
        if (
            outcome.ExitCode == 5
            && (outcome.Command.Contains("pytest", StringComparison.Ordinal) || NoTests().IsMatch(outcome.Excerpt))
        )
            return ReproductionVerdict.Inconclusive;
        if (NoTests().IsMatch(outcome.Excerpt))
            return ReproductionVerdict.Inconclusive;
        return outcome.ExitCode == 0 ? ReproductionVerdict.Pass : ReproductionVerdict.Fail;
    }

    public static string Why(CommandOutcome outcome) =>
        outcome switch
        {
            { TimedOut: true } or { ExitCode: 124 } => "it timed out",
            { ExitCode: 126 } => "the command could not be executed (exit 126)",
            { ExitCode: 127 } => "the command was not found (exit 127)",
            _ => "no tests ran",
        };

    [GeneratedRegex(
        @"no tests ran|collected 0 items|No test matches the given testcase filter|No test is available|0 tests? (?:ran|executed|run)",
        RegexOptions.IgnoreCase
    )]
    private static partial Regex NoTests();
}
