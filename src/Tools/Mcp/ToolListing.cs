using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

/// <summary>Where a server's tools come from: their listing (names, descriptions, schemas, annotations) and their binding.</summary>
public enum ToolListing
{
    /// <summary>
    /// Listed from <c>tools.snapshot.json</c>, compiled into the assembly, and called through <see cref="ToolMethod"/>:
    /// no JSON schema is generated and no attribute is read, at start or at any call. The default.
    /// </summary>
    Snapshot,

    /// <summary>
    /// The SDK's own tools made by reflection over the tool methods (<c>McpServerTool.Create</c>): how the snapshot
    /// is made and checked (ToolSnapshotTests).
    /// </summary>
    Reflected,
}

/// <summary>
/// One tool of a tool class, listed from the snapshot or the SDK's reflection. Spawn → <c>initialize</c> of a
/// stdio server used to spend about a fifth of its CPU building its role's tools by reflection (issue 18).
/// </summary>
public sealed class ListedTool : McpServerTool
{
    private readonly Func<RequestContext<CallToolRequestParams>, CancellationToken, ValueTask<CallToolResult>> invoke;

    internal ListedTool(
        string toolClass,
        string method,
        Tool listed,
        IReadOnlyList<object> metadata,
        Func<RequestContext<CallToolRequestParams>, CancellationToken, ValueTask<CallToolResult>> invoke
    )
    {
        ToolClass = toolClass;
        Method = method;
        ProtocolTool = listed;
        Metadata = metadata;
        this.invoke = invoke;
    }

    /// <summary>The tool class (its type name), as the snapshot keys it.</summary>
    public string ToolClass { get; }

    /// <summary>The tool's method on <see cref="ToolClass"/>.</summary>
    public string Method { get; }

    public override Tool ProtocolTool { get; }

    /// <summary>The SDK's metadata (the method's attributes) for a reflected tool; none from the snapshot (nothing of ours reads it).</summary>
    public override IReadOnlyList<object> Metadata { get; }

    public override ValueTask<CallToolResult> InvokeAsync(
        RequestContext<CallToolRequestParams> request,
        CancellationToken cancellationToken = default
    ) => invoke(request, cancellationToken);
}

/// <summary>
/// Calls a tool method with the call's arguments, as the SDK's reflected tool binds them: each parameter by its
/// name, read with <see cref="ToolOptions.Binding"/> (numbers from digit strings too), a missing one taking its
/// default, the call's <see cref="CancellationToken"/> for that type. The tool methods take only JSON values and a
/// token, and return a <see cref="CallToolResult"/> (or a task of one); anything else fails on its first call.
/// </summary>
internal sealed class ToolMethod
{
    private readonly string tool;
    private readonly MethodInvoker invoker;
    private readonly ParameterInfo[] parameters;
    private readonly JsonTypeInfo?[] types;
    private readonly object?[] defaults;

    public ToolMethod(string tool, MethodInfo method)
    {
        this.tool = tool;
        invoker = MethodInvoker.Create(method);
        parameters = method.GetParameters();
        types = parameters
            .Select(p =>
                p.ParameterType == typeof(CancellationToken) ? null : ToolOptions.Binding.GetTypeInfo(p.ParameterType)
            )
            .ToArray();
        // Read once: a parameter's default comes from metadata, and most calls leave some out.
        defaults = parameters.Select(p => p.HasDefaultValue ? p.DefaultValue : null).ToArray();
    }

    public async ValueTask<CallToolResult> InvokeAsync(
        object target,
        IDictionary<string, JsonElement>? arguments,
        CancellationToken ct
    )
    {
        var values = new object?[parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            if (types[i] is not { } type)
                values[i] = ct;
            else if (arguments is not null && arguments.TryGetValue(p.Name!, out var value))
                values[i] = JsonSerializer.Deserialize(value, type);
            else if (p.HasDefaultValue)
                values[i] = defaults[i];
            else
                throw new ArgumentException(
                    $"The arguments of '{tool}' lack a value for the required parameter '{p.Name}'.",
                    nameof(arguments)
                );
        }
        return invoker.Invoke(target, new Span<object?>(values)) switch
        {
            Task<CallToolResult> pending => await pending,
            CallToolResult done => done,
            var other => throw new InvalidOperationException(
                $"Tool '{tool}' returned {other?.GetType().Name ?? "null"}; tool methods return a CallToolResult."
            ),
        };
    }
}

/// <summary>The tool snapshot: every tool class's listing, in its methods' order, as <see cref="ToolListing.Reflected"/> gives it.</summary>
public static class ToolSnapshot
{
    /// <summary>The file in the repository (src/Tools/Mcp) and the name of its embedded copy.</summary>
    public const string FileName = "tools.snapshot.json";

    private const string Regenerate =
        "Regenerate it: WRITE_TOOL_SNAPSHOT=1 dotnet test tests/FactoryMcp.Tests --filter ToolSnapshotTests";

    private static readonly Lazy<JsonObject> Classes = new(Load);

    private static JsonTypeInfo<Tool> ToolInfo =>
        (JsonTypeInfo<Tool>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(Tool));

    /// <summary>The tools of <typeparamref name="T"/>, as <paramref name="listing"/> says; each call's instance from <paramref name="create"/>.</summary>
    public static IEnumerable<ListedTool> Of<
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods)] T
    >(ToolListing listing, IServiceProvider services, Func<RequestContext<CallToolRequestParams>, T> create)
        where T : class
    {
        var toolClass = typeof(T).Name;
        if (listing == ToolListing.Reflected)
        {
            foreach (var method in typeof(T).GetMethods(BindingFlags.Public | BindingFlags.Instance))
            {
                if (method.GetCustomAttribute<McpServerToolAttribute>() is null)
                    continue;
                var reflected = McpServerTool.Create(
                    method,
                    create,
                    new McpServerToolCreateOptions { Services = services, SerializerOptions = ToolOptions.Binding }
                );
                yield return new ListedTool(
                    toolClass,
                    method.Name,
                    reflected.ProtocolTool,
                    reflected.Metadata,
                    reflected.InvokeAsync
                );
            }
            yield break;
        }
        if (Classes.Value[toolClass] is not JsonObject methods)
            throw new InvalidOperationException($"{FileName} has no tools for {toolClass}. {Regenerate}");
        foreach (var (name, listed) in methods)
        {
            var tool = JsonSerializer.Deserialize(listed, ToolInfo)!;
            ToolMethod? bound = null;
            yield return new ListedTool(
                toolClass,
                name,
                tool,
                [],
                (request, ct) =>
                    LazyInitializer
                        .EnsureInitialized(ref bound, () => new ToolMethod(tool.Name, Find<T>(toolClass, name)))
                        .InvokeAsync(create(request), request.Params?.Arguments, ct)
            );
        }
    }

    /// <summary>The snapshot's JSON for the given tools (grouped by class, in order), as the file holds it.</summary>
    public static string Write(IEnumerable<ListedTool> tools)
    {
        var root = new JsonObject();
        foreach (var tool in tools)
        {
            if (root[tool.ToolClass] is not JsonObject methods)
                root[tool.ToolClass] = methods = new JsonObject();
            methods[tool.Method] = JsonSerializer.SerializeToNode(tool.ProtocolTool, ToolInfo);
        }
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    private static MethodInfo Find<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods)] T>(
        string toolClass,
        string name
    ) =>
        typeof(T).GetMethod(name, BindingFlags.Public | BindingFlags.Instance)
        ?? throw new InvalidOperationException(
            $"{FileName} lists {toolClass}.{name}, which does not exist. {Regenerate}"
        );

    private static JsonObject Load()
    {
        using var stream =
            typeof(ToolSnapshot).Assembly.GetManifestResourceStream(FileName)
            ?? throw new InvalidOperationException(
                $"{FileName} is not embedded in {typeof(ToolSnapshot).Assembly.GetName().Name}."
            );
        return JsonNode.Parse(stream)!.AsObject();
    }
}
