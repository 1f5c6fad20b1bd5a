using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

/// <summary>
/// Checks a tool call's arguments against the tool's own JSON input schema before the SDK binds them, so a
/// missing, misspelled or ill-typed argument is refused with its name, what was expected and what arrived,
/// instead of the SDK's "An error occurred invoking 'tool'." Nothing runs when an argument is wrong.
/// The rules follow the binder: integers may also arrive as digit strings (the SDK reads numbers from
/// strings), booleans may not.
/// </summary>
internal sealed class ToolArguments
{
    private readonly string tool;
    private readonly Dictionary<string, Expected> properties;
    private readonly IReadOnlyList<string> required;

    private ToolArguments(string tool, Dictionary<string, Expected> properties, IReadOnlyList<string> required)
    {
        this.tool = tool;
        this.properties = properties;
        this.required = required;
    }

    /// <summary>Each tool's checker, built from its schema on the tool's first call.</summary>
    private static readonly ConditionalWeakTable<McpServerTool, ToolArguments> Checkers = new();

    /// <summary>
    /// A call-tool filter that refuses malformed arguments with an isError result naming each problem. The
    /// tool is the one the SDK matched to the request, else the one of that name in <paramref name="tools"/>;
    /// a call to no known tool passes on (the SDK answers it).
    /// </summary>
    public static McpRequestFilter<CallToolRequestParams, CallToolResult> Filter(
        McpServerPrimitiveCollection<McpServerTool>? tools = null
    ) =>
        next =>
            async (context, ct) =>
            {
                var tool =
                    context.MatchedPrimitive as McpServerTool
                    ?? (
                        context.Params?.Name is { } name
                        && tools is not null
                        && tools.TryGetPrimitive(name, out var named)
                            ? named
                            : null
                    );
                if (tool is not null)
                {
                    var problems = Checkers.GetValue(tool, t => Of(t.ProtocolTool)).Check(context.Params?.Arguments);
                    if (problems.Count > 0)
                        return Refusal(tool.ProtocolTool.Name, problems);
                }
                return await next(context, ct);
            };

    public static ToolArguments Of(Tool tool)
    {
        var properties = new Dictionary<string, Expected>(StringComparer.Ordinal);
        var required = new List<string>();
        var schema = tool.InputSchema;
        if (schema.ValueKind == JsonValueKind.Object)
        {
            if (schema.TryGetProperty("properties", out var props) && props.ValueKind == JsonValueKind.Object)
                foreach (var p in props.EnumerateObject())
                    properties[p.Name] = Expected.Of(p.Value);
            if (schema.TryGetProperty("required", out var req) && req.ValueKind == JsonValueKind.Array)
                required.AddRange(req.EnumerateArray().Select(r => r.GetString()!).Where(r => r is not null));
        }
        return new ToolArguments(tool.Name, properties, required);
    }

    /// <summary>Every problem with <paramref name="arguments"/>, in the order a reader fixes them: unknown, missing, ill-typed.</summary>
    public IReadOnlyList<string> Check(IDictionary<string, JsonElement>? arguments)
    {
        List<string>? problems = null;
        if (arguments is not null)
        {
            foreach (var (name, value) in arguments)
            {
                if (!properties.TryGetValue(name, out var expected))
                    (problems ??= []).Add(Unknown(name));
                else if (expected.Problem(value) is { } wrong)
                    (problems ??= []).Add($"`{name}` must be {wrong}; got {Shown(value)}");
            }
        }
        foreach (var name in required)
            if (arguments is null || !arguments.ContainsKey(name))
                (problems ??= []).Add(
                    $"`{name}` is required ({(properties.TryGetValue(name, out var e) ? e.Describe() : "any value")})"
                );
        return problems ?? (IReadOnlyList<string>)[];
    }

    private static CallToolResult Refusal(string tool, IReadOnlyList<string> problems) =>
        ToolReply.Error(
            $"{tool} was not run: its arguments are malformed, and nothing was changed. Fix each and call again:\n"
                + string.Join('\n', problems.Select(p => $"- {p}")),
            new JsonObject { ["error"] = "invalid_arguments", ["problems"] = Ledger.Json.Array(problems) }
        );

    private string Unknown(string name)
    {
        var closest = properties
            .Keys.Select(k => (Name: k, Distance: Distance(name, k)))
            .Where(c => c.Distance <= Math.Max(2, c.Name.Length / 3))
            .OrderBy(c => c.Distance)
            .FirstOrDefault();
        return closest.Name is { } guess ? $"unknown argument `{name}`: did you mean `{guess}`?"
            : properties.Count == 0 ? $"unknown argument `{name}`: {tool} takes no arguments"
            : $"unknown argument `{name}`: {tool} takes {string.Join(", ", properties.Keys.Select(k => $"`{k}`"))}";
    }

    /// <summary>The value as the caller sent it, short enough for one line.</summary>
    private static string Shown(JsonElement value)
    {
        var text = value.ValueKind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            _ => value.GetRawText(),
        };
        return text.Length <= 60 ? text : text[..57] + "…";
    }

    /// <summary>Edit distance, for "did you mean": names are short, so the quadratic table is fine.</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
            previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    /// <summary>What one property's schema accepts: its JSON types and, when it has one, its enum.</summary>
    private sealed record Expected(IReadOnlyList<string> Types, IReadOnlyList<string>? Values)
    {
        public static Expected Of(JsonElement schema)
        {
            var types = new List<string>();
            if (schema.TryGetProperty("type", out var type))
            {
                if (type.ValueKind == JsonValueKind.String)
                    types.Add(type.GetString()!);
                else if (type.ValueKind == JsonValueKind.Array)
                    types.AddRange(type.EnumerateArray().Select(t => t.GetString()!).Where(t => t is not null));
            }
            List<string>? values = null;
            if (schema.TryGetProperty("enum", out var options) && options.ValueKind == JsonValueKind.Array)
                values = options.EnumerateArray().Select(o => o.GetRawText()).ToList();
            return new Expected(types, values);
        }

        /// <summary>What was expected, when <paramref name="value"/> is not it; null when it is.</summary>
        public string? Problem(JsonElement value)
        {
            if (Types.Count > 0 && !Types.Any(t => Accepts(t, value)))
                return Describe();
            if (Values is not null && value.ValueKind != JsonValueKind.Null && !Values.Contains(value.GetRawText()))
                return "one of " + string.Join(", ", Values);
            return null;
        }

        public string Describe() =>
            Types.Count == 0 ? "any value" : string.Join(" or ", Types.Select(Article).Where(t => t is not null));

        private static string Article(string type) =>
            type switch
            {
                "integer" => "an integer",
                "number" => "a number",
                "string" => "a string",
                "boolean" => "true or false",
                "array" => "an array",
                "object" => "an object",
                "null" => "null",
                _ => type,
            };

        private static bool Accepts(string type, JsonElement value) =>
            type switch
            {
                "null" => value.ValueKind == JsonValueKind.Null,
                "string" => value.ValueKind == JsonValueKind.String,
                "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
                "array" => value.ValueKind == JsonValueKind.Array,
                "object" => value.ValueKind == JsonValueKind.Object,
                "integer" => value.ValueKind == JsonValueKind.Number
                    ? value.TryGetInt64(out _)
                    : value.ValueKind == JsonValueKind.String && Binds<long>(value),
                "number" => value.ValueKind == JsonValueKind.Number
                    || (value.ValueKind == JsonValueKind.String && Binds<double>(value)),
                _ => true,
            };

        /// <summary>Whether the SDK's binder reads this string as a number (it allows numbers in strings).</summary>
        private static bool Binds<T>(JsonElement value)
        {
            try
            {
                value.Deserialize((JsonTypeInfo<T>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(T)));
                return true;
            }
            catch (JsonException)
            {
                return false;
            }
        }
    }
}
