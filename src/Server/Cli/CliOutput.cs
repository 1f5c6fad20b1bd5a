using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

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

    public static Task WriteJsonAsync<T>(TextWriter output, T value, JsonTypeInfo<T> type) =>
        output.WriteLineAsync(JsonSerializer.Serialize(value, type));

    public static Task WriteJsonAsync(TextWriter output, JsonArray value) =>
        output.WriteLineAsync(Ledger.Json.Compact(value));
}

/// <summary>Source-generated metadata for what the CLI writes with --json, in <see cref="Ledger.Json.Options"/>' shape.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull
)]
[JsonSerializable(typeof(Ledger.Funnel.FunnelReport))]
[JsonSerializable(typeof(Ledger.Fleet.FleetView))]
[JsonSerializable(typeof(IReadOnlyList<Ledger.Tasks.BoardRow>))]
[JsonSerializable(typeof(IReadOnlyList<Tools.Triggers.TriggerBoard.Status>))]
internal sealed partial class CliJson : JsonSerializerContext;
