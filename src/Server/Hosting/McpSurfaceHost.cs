using System.Reflection;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Tools.Hosting;
using FactoryMcp.Tools.Mcp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace FactoryMcp.Server.Hosting;

/// <summary>Builds the per-caller MCP server options and services, for stdio and HTTP sessions alike.</summary>
internal static class McpSurfaceHost
{
    public static string Version { get; } =
        typeof(McpSurfaceHost)
            .Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()
            ?.InformationalVersion.Split('+')[0]
        ?? "0.0.0";

    public static (McpServerOptions Options, ServiceProvider Services) ForCaller(
        FactoryServices factory,
        Caller caller,
        ILoggerFactory loggerFactory,
        ToolListing listing = ToolListing.Snapshot
    )
    {
        var services = new ServiceCollection()
            .AddSingleton(factory)
            .AddSingleton(caller)
            .AddSingleton(loggerFactory)
            .BuildServiceProvider();
        return (RoleSurface.Build(caller, services, Version, listing), services);
    }

    /// <summary>Logs go to stderr only: in stdio mode stdout is the protocol. FACTORY_LOG_LEVEL sets the level (default Warning).</summary>
    public static ILoggerFactory StderrLogging() =>
        StderrLoggerProvider.Factory(
            Enum.TryParse<LogLevel>(
                Environment.GetEnvironmentVariable("FACTORY_LOG_LEVEL"),
                ignoreCase: true,
                out var parsed
            )
                ? parsed
                : LogLevel.Warning
        );
}
