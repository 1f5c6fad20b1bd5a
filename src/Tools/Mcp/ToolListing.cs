using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace FactoryMcp.Tools.Mcp;

/// <summary>Where a server's tool listing (names, descriptions, input and output schemas, annotations) comes from.</summary>
public enum ToolListing
{
    /// <summary>
    /// From <c>tools.snapshot.json</c>, compiled into the assembly: no reflection and no JSON schema generation
    /// before the first reply. A tool's method is reflected on its first call only. The default.
    /// </summary>
    Snapshot,

    /// <summary>
    /// From the tool methods themselves (the SDK's reflection over their signatures and attributes): how the
    /// snapshot is made and checked (ToolSnapshotTests).
    /// </summary>
    Reflected,
}

/// <summary>
/// One tool of a tool class: listed from the snapshot (or its reflection), invoked through the SDK's own
/// reflected tool for its method, made on the first call. Spawn → <c>initialize</c> of a stdio server used to
/// spend about a fifth of its CPU building the schemas of its role's tools by reflection (issue 18).
/// </summary>
public sealed class ListedTool : McpServerTool
{
    private readonly Func<McpServerTool> reflect;
    private McpServerTool? reflected;

    internal ListedTool(string toolClass, string method, Tool listed, Func<McpServerTool> reflect)
    {
        ToolClass = toolClass;
        Method = method;
        ProtocolTool = listed;
        this.reflect = reflect;
    }

    internal ListedTool(string toolClass, string method, McpServerTool reflected)
        : this(toolClass, method, reflected.ProtocolTool, () => reflected) => this.reflected = reflected;

    /// <summary>The tool class (its type name), as the snapshot keys it.</summary>
    public string ToolClass { get; }

    /// <summary>The tool's method on <see cref="ToolClass"/>.</summary>
    public string Method { get; }

    public override Tool ProtocolTool { get; }

    public override IReadOnlyList<object> Metadata => Reflected.Metadata;

    public override ValueTask<CallToolResult> InvokeAsync(
        RequestContext<CallToolRequestParams> request,
        CancellationToken cancellationToken = default
    ) => Reflected.InvokeAsync(request, cancellationToken);

    private McpServerTool Reflected => LazyInitializer.EnsureInitialized(ref reflected, reflect);
}

/// <summary>The tool snapshot: every tool class's listing, in its methods' order, as <see cref="ToolListing.Reflected"/> gives it.</summary>
public static class ToolSnapshot
{
    /// <summary>The file in the repository (src/Tools/Mcp) and the name of its embedded copy.</summary>
    public const string FileName = "tools.snapshot.json";

    private static readonly Lazy<JsonObject> Classes = new(Load);

    private static JsonTypeInfo<Tool> ToolInfo =>
        (JsonTypeInfo<Tool>)McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(Tool));

    /// <summary>The tools of <typeparamref name="T"/>, listed as <paramref name="listing"/> says; each instance from <paramref name="create"/> per call.</summary>
    public static IEnumerable<ListedTool> Of<
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicMethods)] T
    >(ToolListing listing, IServiceProvider services, Func<RequestContext<CallToolRequestParams>, T> create)
        where T : class
    {
        var toolClass = typeof(T).Name;
        if (listing == ToolListing.Reflected)
        {
            foreach (var method in typeof(T).GetMethods(BindingFlags.Public | BindingFlags.Instance))
                if (method.GetCustomAttribute<McpServerToolAttribute>() is not null)
                    yield return new ListedTool(toolClass, method.Name, Reflect(method, services, create));
            yield break;
        }
        if (Classes.Value[toolClass] is not JsonObject methods)
            throw new InvalidOperationException(
                $"{FileName} has no tools for {toolClass}. Regenerate it: WRITE_TOOL_SNAPSHOT=1 dotnet test tests/FactoryMcp.Tests --filter ToolSnapshotTests"
            );
        foreach (var (name, listed) in methods)
        {
            var tool = JsonSerializer.Deserialize(listed, ToolInfo)!;
            yield return new ListedTool(
                toolClass,
                name,
                tool,
                () =>
                    Reflect(
                        typeof(T).GetMethod(name, BindingFlags.Public | BindingFlags.Instance)
                            ?? throw new InvalidOperationException(
                                $"{FileName} lists {toolClass}.{name}, which does not exist. Regenerate it (ToolSnapshotTests)."
                            ),
                        services,
                        create
                    )
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

    private static McpServerTool Reflect<T>(
        MethodInfo method,
        IServiceProvider services,
        Func<RequestContext<CallToolRequestParams>, T> create
    )
        where T : class =>
        McpServerTool.Create(
            method,
            create,
            new McpServerToolCreateOptions { Services = services, SerializerOptions = ToolOptions.Binding }
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
