using System.CommandLine;
using System.Globalization;

namespace FactoryMcp.Server.Cli;

/// <summary>
/// How the list commands (board, signals, agents, funnel) write: plain text without colour codes when the
/// output is not a terminal, titles cut to fit the width (never wrapped letter by letter), JSON with --json.
/// </summary>
internal static class CliOutput
{
    public static Option<bool> JsonOption() =>
        new("--json") { Description = "Print JSON (for scripts) instead of text." };

    public static bool IsTerminal => !Console.IsOutputRedirected;

    /// <summary>The terminal's width; when not a terminal, COLUMNS if set, else 120.</summary>
    public static int Width
    {
        get
        {
            if (IsTerminal)
            {
                try
                {
                    if (Console.WindowWidth > 0)
                        return Console.WindowWidth;
                }
                catch (IOException) { }
            }
            return
                int.TryParse(
                    Environment.GetEnvironmentVariable("COLUMNS"),
                    NumberStyles.None,
                    CultureInfo.InvariantCulture,
                    out var columns
                )
                && columns > 0
                ? columns
                : 120;
        }
    }

    /// <summary>One line of at most <paramref name="max"/> characters (at least 8), cut with an ellipsis.</summary>
    public static string Fit(string text, int max)
    {
        max = Math.Max(8, max);
        var line = string.Join(' ', text.Split(['\r', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries)).Trim();
        return line.Length <= max ? line : line[..(max - 1)] + "…";
    }

    public static Task WriteJsonAsync<T>(TextWriter output, T value) =>
        output.WriteLineAsync(Ledger.Json.Serialize(value));
}
