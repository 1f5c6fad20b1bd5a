namespace FactoryMcp.Bench.Published;

/// <summary>
/// The yardstick for startup: the SDK's own quick-start shape (generic host, stdio transport, one tool
/// registered with WithTools), on the SDK version the factory uses, published ReadyToRun like the factory.
/// Written to a folder outside the solution so nothing of ours (analyzers, props) touches it.
/// </summary>
internal static class BareServer
{
    public const string AssemblyName = "bare-mcp";

    public static IReadOnlyDictionary<string, string> Files(string sdkVersion, string hostingVersion) =>
        new Dictionary<string, string>
        {
            ["BareMcp.csproj"] = $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                    <AssemblyName>{AssemblyName}</AssemblyName>
                    <RuntimeIdentifier>linux-x64</RuntimeIdentifier>
                    <SelfContained>false</SelfContained>
                    <PublishReadyToRun>true</PublishReadyToRun>
                    <InvariantGlobalization>true</InvariantGlobalization>
                    <ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="ModelContextProtocol" Version="{sdkVersion}" />
                    <PackageReference Include="Microsoft.Extensions.Hosting" Version="{hostingVersion}" />
                  </ItemGroup>
                </Project>
                """,
            ["Program.cs"] = """
                using System.ComponentModel;
                using Microsoft.Extensions.DependencyInjection;
                using Microsoft.Extensions.Hosting;
                using Microsoft.Extensions.Logging;
                using ModelContextProtocol.Server;

                var builder = Host.CreateApplicationBuilder(args);
                builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
                builder.Services.AddMcpServer().WithStdioServerTransport().WithTools<EchoTools>();
                await builder.Build().RunAsync();

                [McpServerToolType]
                public sealed class EchoTools
                {
                    [McpServerTool, Description("Echoes the message back.")]
                    public static string Echo([Description("The message.")] string message) => message;
                }
                """,
            // Outside our tree there is no Directory.Build.props; these files stop a parent folder's from applying.
            ["Directory.Build.props"] = "<Project />\n",
            ["Directory.Packages.props"] = "<Project />\n",
        };
}
