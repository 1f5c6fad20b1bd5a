using System.Collections.Concurrent;
using FactoryMcp.Ledger.Agents;
using ModelContextProtocol.Server;

namespace FactoryMcp.Server.Http;

/// <summary>
/// The MCP surface each caller gets over HTTP, exactly as over stdio (its role's tools, prompts and
/// resources), applied by MapMcp's ConfigureSessionOptions to the options the SDK makes for every session
/// and every 2026-07-28 request. Building a surface (the role's tools with their JSON schemas) costs more
/// than a call, and each 2026-07-28 request gets a server of its own, so a caller's surface is built once
/// and shared: the SDK only reads options, and a session's server unsubscribes from the collections when it
/// is disposed. Keyed by the whole caller (id, name, role, verifier role), so a re-registered agent gets a
/// fresh surface; beyond <see cref="MaxCallers"/> callers, surfaces are built per use.
/// </summary>
internal sealed class McpSurfaces(Func<Caller, McpServerOptions> build)
{
    public const int MaxCallers = 1_000;

    private readonly ConcurrentDictionary<Caller, Lazy<McpServerOptions>> surfaces = new();

    /// <summary>Copies the caller's surface into the options the SDK made for one session or request.</summary>
    public void Apply(Caller caller, McpServerOptions target)
    {
        var surface = Get(caller);
        target.ServerInfo = surface.ServerInfo;
        target.ServerInstructions = surface.ServerInstructions;
        target.Capabilities = surface.Capabilities;
        target.ToolCollection = surface.ToolCollection;
        target.PromptCollection = surface.PromptCollection;
        target.ResourceCollection = surface.ResourceCollection;
        target.Handlers = surface.Handlers;
        // MCP Tasks' tasks/* methods (custom request handlers: experimental in SDK 2.4.0).
#pragma warning disable MCPEXP002
        target.RequestHandlers = surface.RequestHandlers;
#pragma warning restore MCPEXP002
        // The surface's own filters; the SDK's only default one guards [Authorize] metadata, which no tool here has.
        target.Filters = surface.Filters;
        // A surface resolves nothing from the server's services, so no DI scope per request.
        target.ScopeRequests = false;
    }

    private McpServerOptions Get(Caller caller)
    {
        if (surfaces.TryGetValue(caller, out var cached))
            return cached.Value;
        if (surfaces.Count >= MaxCallers)
            return build(caller);
        // PublicationOnly: a failed build is not remembered; two racing first requests may both build.
        return surfaces.GetOrAdd(caller, c => new(() => build(c), LazyThreadSafetyMode.PublicationOnly)).Value;
    }
}
