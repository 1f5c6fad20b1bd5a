using FactoryMcp.Ledger.Agents;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Server;

namespace FactoryMcp.Server.Http;

/// <summary>Who is calling: the caller, or null once a refusal (401, 403, 429) has been written.</summary>
internal delegate Task<Caller?> McpCallerResolver(HttpContext context);

/// <summary>The MCP surface (options and per-caller services) one caller gets, as over stdio.</summary>
internal delegate (McpServerOptions Options, ServiceProvider Services) McpSurfaceFactory(Caller caller);
