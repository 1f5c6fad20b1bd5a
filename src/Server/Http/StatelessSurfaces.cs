using System.Collections.Concurrent;
using FactoryMcp.Ledger.Agents;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Server;

namespace FactoryMcp.Server.Http;

/// <summary>
/// The surfaces of stateless (2026-07-28) requests, built once per caller. Each such request gets its own
/// short-lived server, and building its surface (the role's tools with their JSON schemas, a service
/// provider) for every call cost more than many calls themselves. A caller's stateless servers share one
/// options object, as the SDK's own stateless hosting does; nothing in it is per request. Sessions keep
/// their own surface, since a session's server subscribes to its tool collection. The key is the whole
/// caller (id, name, role), so a re-registered agent gets a fresh surface; beyond
/// <see cref="MaxCallers"/> callers, surfaces are built per request again.
/// </summary>
internal sealed class StatelessSurfaces(McpSurfaceFactory build)
{
    public const int MaxCallers = 1_000;

    private readonly ConcurrentDictionary<Caller, Lazy<(McpServerOptions Options, ServiceProvider Services)>> surfaces =
        new();

    /// <summary>The caller's surface; <c>Owned</c> means it was not cached and the request disposes it.</summary>
    public (McpServerOptions Options, ServiceProvider Services, bool Owned) Get(Caller caller)
    {
        if (!surfaces.TryGetValue(caller, out var cached))
        {
            if (surfaces.Count >= MaxCallers)
            {
                var (own, ownServices) = build(caller);
                return (own, ownServices, true);
            }
            // PublicationOnly: a failed build is not remembered; two racing first requests may both build.
            cached = surfaces.GetOrAdd(caller, c => new(() => build(c), LazyThreadSafetyMode.PublicationOnly));
        }
        var (options, services) = cached.Value;
        return (options, services, false);
    }
}
