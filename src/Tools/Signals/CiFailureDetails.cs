using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Lines;

namespace FactoryMcp.Tools.Signals;

/// <summary>
/// What a CI-failure signal carries besides its text (signals.details_json): the workflow, the run, the
/// head commit and the failing jobs, as the webhook reported them (README, "CI-failure signals").
/// </summary>
public sealed record CiFailureDetails
{
    public required string Repo { get; init; }

    /// <summary>The workflow's name (workflow_run) or the checking app's name (check_suite).</summary>
    public required string Workflow { get; init; }
    public string? WorkflowPath { get; init; }
    public required string RunUrl { get; init; }
    public required string HeadSha { get; init; }
    public required string HeadBranch { get; init; }
    public string? Event { get; init; }
    public IReadOnlyList<CiJob> FailingJobs { get; init; } = [];

    /// <summary>Why the failing jobs could not be listed, when they could not.</summary>
    public string? JobsError { get; init; }

    public static CiFailureDetails? From(string? json)
    {
        if (json is null)
            return null;
        try
        {
            return Json.Deserialize(json, Mcp.ToolsJson.Default.CiFailureDetails);
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The commands that re-run the failing jobs, from the line's <c>ci_commands</c>: for each failing job the
    /// entry <c>WORKFLOW/JOB</c>, else <c>JOB</c>; when no job has one, the entry <c>WORKFLOW</c>. Keys compare
    /// case-insensitively; each command appears once, in the jobs' order.
    /// </summary>
    public IReadOnlyList<string> Commands(LineSettings line)
    {
        var map = new Dictionary<string, string>(line.CiCommands, StringComparer.OrdinalIgnoreCase);
        var commands = new List<string>();
        foreach (var job in FailingJobs)
        {
            if (
                (map.TryGetValue($"{Workflow}/{job.Name}", out var command) || map.TryGetValue(job.Name, out command))
                && !commands.Contains(command.Trim())
            )
                commands.Add(command.Trim());
        }
        if (commands.Count == 0 && map.TryGetValue(Workflow, out var whole))
            commands.Add(whole.Trim());
        return commands;
    }
}

/// <summary>A failing job (or check run): its name, its page, and the steps that failed.</summary>
public sealed record CiJob(string Name, string? Url, IReadOnlyList<string> FailedSteps);
