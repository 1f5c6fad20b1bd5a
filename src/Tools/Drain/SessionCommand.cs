using System.Globalization;
using System.Text.RegularExpressions;
using FactoryMcp.Ledger;

namespace FactoryMcp.Tools.Drain;

/// <summary>
/// The headless agent command `factory drain` runs for each run: the words after <c>--</c>, with
/// <c>{placeholders}</c> filled in. Each word stays one argument (no shell), so a prompt with quotes or
/// semicolons cannot become a command.
/// </summary>
public static partial class SessionCommand
{
    public static readonly IReadOnlyList<string> Placeholders =
    [
        "prompt",
        "prompt_file",
        "run_id",
        "task_id",
        "workspace",
        "agent",
        "ledger",
    ];

    [GeneratedRegex(@"\{([a-z_]+)\}")]
    private static partial Regex Placeholder();

    /// <summary>Refuses an empty command or unknown placeholders before anything is claimed.</summary>
    public static void Check(IReadOnlyList<string> words)
    {
        if (words.Count == 0 || string.IsNullOrWhiteSpace(words[0]))
            throw new LedgerException(
                "Give the agent command after `--`, for example: factory drain --agent claude-1 -- claude -p {prompt}"
            );
        var unknown = words
            .SelectMany(w => Placeholder().Matches(w))
            .Select(m => m.Groups[1].Value)
            .Where(n => !Placeholders.Contains(n))
            .Distinct()
            .ToList();
        if (unknown.Count > 0)
            throw new LedgerException(
                $"Unknown placeholders {string.Join(", ", unknown.Select(u => "{" + u + "}"))} in the agent command; known: {string.Join(", ", Placeholders.Select(p => "{" + p + "}"))}."
            );
    }

    /// <summary>Refuses a program that cannot be found, before anything is claimed (a typo must not cost a run an attempt).</summary>
    public static void CheckProgram(string program, string workingDirectory)
    {
        if (program.Contains('/'))
        {
            if (!File.Exists(Path.GetFullPath(program, workingDirectory)))
                throw new LedgerException($"The agent command '{program}' does not exist.");
            return;
        }
        var path = System.Environment.GetEnvironmentVariable("PATH") ?? "";
        if (!path.Split(':', StringSplitOptions.RemoveEmptyEntries).Any(dir => File.Exists(Path.Combine(dir, program))))
            throw new LedgerException(
                $"The agent command '{program}' is not on PATH. Install it, or give its absolute path."
            );
    }

    public static IReadOnlyList<string> Expand(
        IReadOnlyList<string> words,
        IReadOnlyDictionary<string, string> values
    ) =>
        words
            .Select(w => Placeholder().Replace(w, m => values.TryGetValue(m.Groups[1].Value, out var v) ? v : m.Value))
            .ToList();

    /// <summary>The values, keyed by placeholder name.</summary>
    public static Dictionary<string, string> Values(
        string prompt,
        string promptFile,
        long runId,
        long taskId,
        string workspace,
        string agent,
        string ledger
    ) =>
        new()
        {
            ["prompt"] = prompt,
            ["prompt_file"] = promptFile,
            ["run_id"] = runId.ToString(CultureInfo.InvariantCulture),
            ["task_id"] = taskId.ToString(CultureInfo.InvariantCulture),
            ["workspace"] = workspace,
            ["agent"] = agent,
            ["ledger"] = ledger,
        };

    /// <summary>The environment the session gets on top of drain's own: who it is, where the ledger is, which run.</summary>
    public static Dictionary<string, string?> Environment(IReadOnlyDictionary<string, string> values) =>
        new()
        {
            ["FACTORY_AGENT"] = values["agent"],
            ["FACTORY_LEDGER"] = values["ledger"],
            ["FACTORY_RUN_ID"] = values["run_id"],
            ["FACTORY_TASK_ID"] = values["task_id"],
            ["FACTORY_WORKSPACE"] = values["workspace"],
            ["FACTORY_PROMPT_FILE"] = values["prompt_file"],
            // The role always comes from the registry; a stray FACTORY_ROLE in drain's shell must not reach the session.
            ["FACTORY_ROLE"] = null,
        };

    /// <summary>The command as the audit keeps it: placeholders unexpanded, so no prompt text is stored.</summary>
    public static string Describe(IReadOnlyList<string> words) =>
        string.Join(' ', words.Select(w => w.Any(char.IsWhiteSpace) ? $"'{w}'" : w));
}
