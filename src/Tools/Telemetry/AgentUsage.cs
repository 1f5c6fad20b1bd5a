using System.Globalization;
using FactoryMcp.Ledger.Telemetry;
using FactoryMcp.Tools.Telemetry.Otlp;

namespace FactoryMcp.Tools.Telemetry;

/// <summary>
/// Reads coding agents' token and cost telemetry (README "Telemetry", "Agent usage in"), by the vendors'
/// documented names: Claude Code's <c>claude_code.api_request</c> log event and its <c>claude_code.token.usage</c>
/// and <c>claude_code.cost.usage</c> counters; Codex's <c>codex.sse_event</c> log events (the
/// <c>response.completed</c> ones carry the token counts) and its <c>codex.turn.token_usage</c> histogram (one
/// point per <c>token_type</c>; its sum is the tokens). Anything else in an export is not usage and is skipped.
/// </summary>
public static class AgentUsage
{
    /// <summary>The resource attribute naming the run (set by `factory drain` in OTEL_RESOURCE_ATTRIBUTES).</summary>
    public const string RunAttribute = "factory.run.id";

    /// <summary>One usage figure, not yet attributed to a run.</summary>
    public sealed record Figure(OtlpResource Resource, UsagePoint Point);

    public static bool IsUsageEvent(OtlpLogRecord record) =>
        EventName(record) is "api_request" or "codex.sse_event" or "codex.api_request";

    public static bool IsUsageMetric(OtlpMetricPoint point) =>
        point.Metric is TokenMetric or CostMetric or CodexTokenMetric;

    private const string TokenMetric = "claude_code.token.usage";
    private const string CostMetric = "claude_code.cost.usage";

    /// <summary>
    /// Codex's per-turn token histogram (codex-rs/otel metrics names: <c>codex.turn.token_usage</c>, attribute
    /// <c>token_type</c> total, input, cached_input, output, reasoning_output).
    /// </summary>
    private const string CodexTokenMetric = "codex.turn.token_usage";

    public static IEnumerable<Figure> FromLogs(IEnumerable<OtlpLogRecord> records)
    {
        foreach (var record in records)
        {
            var a = record.Attributes;
            var name = EventName(record);
            long input,
                output,
                cacheRead,
                cacheCreation = 0;
            double cost = 0;
            if (name == "api_request")
            {
                input = Long(a, "input_tokens");
                output = Long(a, "output_tokens");
                cacheRead = Long(a, "cache_read_tokens");
                cacheCreation = Long(a, "cache_creation_tokens");
                cost = Double(a, "cost_usd");
            }
            else if (name is "codex.sse_event" or "codex.api_request")
            {
                // OpenAI counts cached input inside the input count; the ledger keeps them apart, as Claude Code does.
                cacheRead = Long(a, "cached_token_count");
                input = Math.Max(0, Long(a, "input_token_count") - cacheRead);
                output = Long(a, "output_token_count");
            }
            else
                continue;
            if (input + output + cacheRead + cacheCreation == 0 && cost == 0)
                continue;
            yield return new Figure(
                record.Resource,
                new UsagePoint
                {
                    RunId = 0,
                    Origin = UsageLedger.Logs,
                    Service = Service(record.Resource),
                    Model = a.GetValueOrDefault("model") ?? "",
                    Input = input,
                    Output = output,
                    CacheRead = cacheRead,
                    CacheCreation = cacheCreation,
                    Cost = cost,
                }
            );
        }
    }

    public static IEnumerable<Figure> FromMetrics(IEnumerable<OtlpMetricPoint> points)
    {
        var usage = points.Where(IsUsageMetric).ToList();
        foreach (var figure in FromCodexMetrics(usage.Where(p => p.Metric == CodexTokenMetric)))
            yield return figure;
        foreach (var p in usage.Where(p => p.Metric != CodexTokenMetric))
        {
            if (p.Value < 0 || double.IsNaN(p.Value) || double.IsInfinity(p.Value))
                continue;
            var model = p.Attributes.GetValueOrDefault("model") ?? "";
            var type = p.Attributes.GetValueOrDefault("type") ?? "";
            var tokens = (long)Math.Round(Math.Min(p.Value, long.MaxValue / 4.0));
            var cumulative = p.Temporality == 2;
            var point = new UsagePoint
            {
                RunId = 0,
                Origin = UsageLedger.Metrics,
                // A cumulative series restarts with its start time; every series of a session keeps its own high-water mark.
                Series = cumulative
                    ? string.Join(
                        '|',
                        p.Metric,
                        type,
                        p.Attributes.GetValueOrDefault("session.id") ?? "",
                        p.StartTimeUnixNano.ToString(CultureInfo.InvariantCulture)
                    )
                    : "",
                Service = Service(p.Resource),
                Model = model,
                Cumulative = cumulative,
            };
            if (p.Metric == CostMetric)
                point = point with { Cost = p.Value };
            else
                point = type switch
                {
                    "input" => point with { Input = tokens },
                    "output" => point with { Output = tokens },
                    "cacheRead" => point with { CacheRead = tokens },
                    "cacheCreation" => point with { CacheCreation = tokens },
                    _ => point,
                };
            yield return new Figure(p.Resource, point);
        }
    }

    /// <summary>
    /// Codex's token histogram: the points of one series and interval (same resource, start, time and attributes
    /// but token_type) make one figure. As with its log events, cached input is counted inside input by OpenAI, so
    /// input minus cached_input is stored as input and cached_input as cache read; output is the output count
    /// (reasoning tokens are inside it); total is not stored (it is the sum of the others).
    /// </summary>
    private static IEnumerable<Figure> FromCodexMetrics(IEnumerable<OtlpMetricPoint> points)
    {
        static long Tokens(double value) =>
            value is >= 0 and < long.MaxValue / 4.0 && !double.IsNaN(value) ? (long)Math.Round(value) : 0;
        var series = points.GroupBy(p =>
            (
                p.Resource,
                p.Temporality,
                p.StartTimeUnixNano,
                p.TimeUnixNano,
                Attributes: string.Join(
                    '|',
                    p.Attributes.Where(a => a.Key != "token_type")
                        .OrderBy(a => a.Key, StringComparer.Ordinal)
                        .Select(a => $"{a.Key}={a.Value}")
                )
            )
        );
        foreach (var group in series)
        {
            long Of(string type) =>
                Tokens(group.Where(p => p.Attributes.GetValueOrDefault("token_type") == type).Sum(p => p.Value));
            var cached = Of("cached_input");
            var input = Math.Max(0, Of("input") - cached);
            var output = Of("output");
            if (input + output + cached == 0)
                continue;
            var first = group.First();
            var cumulative = group.Key.Temporality == 2;
            yield return new Figure(
                group.Key.Resource,
                new UsagePoint
                {
                    RunId = 0,
                    Origin = UsageLedger.Metrics,
                    // A cumulative series keeps its highest value, by metric, session (conversation) and start time.
                    Series = cumulative
                        ? string.Join(
                            '|',
                            CodexTokenMetric,
                            first.Attributes.GetValueOrDefault("conversation.id")
                                ?? first.Attributes.GetValueOrDefault("session.id")
                                ?? "",
                            group.Key.StartTimeUnixNano.ToString(CultureInfo.InvariantCulture)
                        )
                        : "",
                    Service = Service(group.Key.Resource),
                    Model = first.Attributes.GetValueOrDefault("model") ?? "",
                    Input = input,
                    Output = output,
                    CacheRead = cached,
                    Cumulative = cumulative,
                }
            );
        }
    }

    private static string Service(OtlpResource resource) => resource["service.name"] ?? "unknown";

    /// <summary>The event's name: the record's event_name, else its event.name attribute, else its body; Claude Code's prefix dropped.</summary>
    private static string EventName(OtlpLogRecord record)
    {
        var name =
            record.EventName is { Length: > 0 } e ? e
            : record.Attributes.GetValueOrDefault("event.name") is { Length: > 0 } attr ? attr
            : record.Body ?? "";
        return name.StartsWith("claude_code.", StringComparison.Ordinal) ? name["claude_code.".Length..] : name;
    }

    private static long Long(IReadOnlyDictionary<string, string> a, string key) =>
        a.TryGetValue(key, out var text)
        && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
        && value is >= 0 and < long.MaxValue / 4.0
            ? (long)Math.Round(value)
            : 0;

    private static double Double(IReadOnlyDictionary<string, string> a, string key) =>
        a.TryGetValue(key, out var text)
        && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
        && value is >= 0 and < 1e9
            ? value
            : 0;
}
