using System.Globalization;
using System.Text.RegularExpressions;
using FactoryMcp.Ledger;
using Telemetry_ = FactoryMcp.Tools.Telemetry;

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
        "otlp_endpoint",
        "otlp_token",
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

    /// <summary>
    /// Where the session's agent sends its own usage telemetry: the OTLP receiver on the hooks listener, and the
    /// variable holding the hooks secret (never passed on to the session; its tokens are derived from it).
    /// </summary>
    public sealed record Telemetry(string Endpoint, byte[] Secret, string SecretEnv);

    /// <summary>The values, keyed by placeholder name.</summary>
    public static Dictionary<string, string> Values(
        string prompt,
        string promptFile,
        long runId,
        long taskId,
        string workspace,
        string agent,
        string ledger,
        Telemetry? telemetry = null
    ) =>
        new()
        {
            ["otlp_endpoint"] = telemetry?.Endpoint ?? "",
            ["otlp_token"] = telemetry is null ? "" : Telemetry_.OtlpTokens.ForRun(telemetry.Secret, runId),
            ["prompt"] = prompt,
            ["prompt_file"] = promptFile,
            ["run_id"] = runId.ToString(CultureInfo.InvariantCulture),
            ["task_id"] = taskId.ToString(CultureInfo.InvariantCulture),
            ["workspace"] = workspace,
            ["agent"] = agent,
            ["ledger"] = ledger,
        };

    /// <summary>The environment the session gets on top of drain's own: who it is, where the ledger is, which run.</summary>
    public static Dictionary<string, string?> Environment(
        IReadOnlyDictionary<string, string> values,
        Telemetry? telemetry = null
    )
    {
        var environment = BaseEnvironment(values);
        if (telemetry is null)
            return environment;
        // The agent CLI's own telemetry goes to the factory's receiver, tagged with the run (README "Telemetry").
        var existing = System.Environment.GetEnvironmentVariable("OTEL_RESOURCE_ATTRIBUTES");
        var tags = $"{Telemetry_.AgentUsage.RunAttribute}={values["run_id"]},factory.task.id={values["task_id"]}";
        environment["OTEL_RESOURCE_ATTRIBUTES"] = string.IsNullOrWhiteSpace(existing) ? tags : $"{existing},{tags}";
        environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = telemetry.Endpoint;
        environment["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
        environment["OTEL_EXPORTER_OTLP_HEADERS"] = $"{Telemetry_.OtlpTokens.Header}={values["otlp_token"]}";
        environment["OTEL_LOGS_EXPORTER"] = "otlp";
        environment["OTEL_METRICS_EXPORTER"] = "otlp";
        environment["CLAUDE_CODE_ENABLE_TELEMETRY"] = "1";
        environment["FACTORY_OTLP_ENDPOINT"] = telemetry.Endpoint;
        environment["FACTORY_OTLP_TOKEN"] = values["otlp_token"];
        // The secret signs webhooks and mints every token: the session gets its own run's token, never the secret.
        environment[telemetry.SecretEnv] = null;
        return environment;
    }

    private static Dictionary<string, string?> BaseEnvironment(IReadOnlyDictionary<string, string> values) =>
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
