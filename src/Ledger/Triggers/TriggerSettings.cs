namespace FactoryMcp.Ledger.Triggers;

/// <summary>
/// One entry of <c>triggers:</c> in factory.yaml (README, "Triggers"): on its schedule, <see cref="Command"/> runs
/// in Validation's sandbox on a fresh checkout of the default branch of <see cref="Repo"/> (default: the project's),
/// and its output, read as <see cref="Format"/>, becomes signals for <see cref="Line"/>.
/// </summary>
public sealed record TriggerSettings
{
    public string Name { get; set; } = "";
    public string Schedule { get; set; } = "";
    public string Line { get; set; } = "";
    public string Command { get; set; } = "";
    public string Format { get; set; } = TriggerFormats.Jsonl;

    /// <summary>The repository checked out (a path relative to the project, or a URL); default: the project's.</summary>
    public string? Repo { get; set; }

    /// <summary>How long the command may run (default 600 s, at most 3600).</summary>
    public int TimeoutSeconds { get; set; } = 600;

    /// <summary>Whether the command may reach the network (scanners fetch advisories). Default true.</summary>
    public bool Network { get; set; } = true;

    /// <summary>Variables passed through from the server's environment (tokens a scanner needs).</summary>
    public List<string> EnvPassthrough { get; set; } = [];

    /// <summary>A trigger name: lower-case letters, digits, '-' or '_', at most 32 characters (it names the signals' source).</summary>
    public static bool IsValidName(string name) =>
        name.Length is > 0 and <= 32
        && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_')
        && char.IsAsciiLetterOrDigit(name[0]);

    /// <summary>Every problem of the <c>triggers:</c> list, each naming its trigger.</summary>
    public static IEnumerable<string> Problems(IReadOnlyList<TriggerSettings> triggers)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < triggers.Count; i++)
        {
            var t = triggers[i];
            var where = string.IsNullOrEmpty(t.Name) ? $"triggers[{i}]" : $"trigger {t.Name}";
            if (!IsValidName(t.Name))
                yield return $"{where}: name must be lower-case letters, digits, '-' or '_' (at most 32, starting with a letter or digit)";
            else if (!seen.Add(t.Name))
                yield return $"{where}: the name is used twice";
            string? cron = null;
            try
            {
                CronSchedule.Parse(t.Schedule);
            }
            catch (LedgerException e)
            {
                cron = e.Message;
            }
            if (cron is not null)
                yield return $"{where}: {cron}";
            if (string.IsNullOrWhiteSpace(t.Line))
                yield return $"{where}: line is missing (the lines.yaml line its signals are drafted for)";
            if (string.IsNullOrWhiteSpace(t.Command))
                yield return $"{where}: command is missing";
            if (!TriggerFormats.All.Contains(t.Format))
                yield return $"{where}: format '{t.Format}' is not one of {string.Join(", ", TriggerFormats.All)}";
            if (t.TimeoutSeconds is < 1 or > 3600)
                yield return $"{where}: timeout_seconds must be between 1 and 3600";
        }
    }
}

/// <summary>How a trigger's output is read.</summary>
public static class TriggerFormats
{
    /// <summary>One JSON object per line: key, title, body, labels, url.</summary>
    public const string Jsonl = "jsonl";
    public const string PipAudit = "pip-audit";
    public const string NpmAudit = "npm-audit";
    public const string NpmOutdated = "npm-outdated";
    public const string DotnetListPackage = "dotnet-list-package";

    public static readonly IReadOnlyList<string> All = [Jsonl, PipAudit, NpmAudit, NpmOutdated, DotnetListPackage];
}
