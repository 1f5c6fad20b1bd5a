using System.Security.Cryptography;
using System.Text;
using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Bench.Published;

/// <summary>
/// The executables the process figures measure: the ReadyToRun `factory` (published from src/Server,
/// as the README tells users to), and a bare MCP server on the same SDK that the benchmark writes and
/// publishes itself (<see cref="BareServer"/>). Each comes in two flavours: the default publish
/// (framework-dependent, ReadyToRun) and the fast-startup one (self-contained, framework and app in one
/// composite ReadyToRun image: src/Server/Properties/PublishProfiles/fast-startup.pubxml). All land
/// under artifacts/bench/.
/// </summary>
internal static class Builds
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>Publish arguments of the fast-startup flavour of the bare server (the factory's come from its publish profile).</summary>
    private static readonly string[] CompositeArguments =
    [
        "-p:SelfContained=true",
        "-p:PublishReadyToRunComposite=true",
    ];

    public static async Task<string> FactoryAsync(BenchOptions options)
    {
        if (options.Factory is { } given)
            return Require(given);
        var output = Path.Combine(RepoRoot, "artifacts", "bench", "factory");
        Console.Error.WriteLine($"publishing factory (ReadyToRun) to {output} ...");
        await PublishAsync(Path.Combine(RepoRoot, "src", "Server"), output, []);
        return Require(Path.Combine(output, "factory"));
    }

    /// <summary>The fast-startup publish of the factory (self-contained, composite ReadyToRun).</summary>
    public static async Task<string> FactoryCompositeAsync(BenchOptions options)
    {
        if (options.FactoryComposite is { } given)
            return Require(given);
        var output = Path.Combine(RepoRoot, "artifacts", "bench", "factory-composite");
        Console.Error.WriteLine(
            $"publishing factory (fast-startup: self-contained, composite ReadyToRun) to {output} ..."
        );
        await PublishAsync(Path.Combine(RepoRoot, "src", "Server"), output, ["-p:PublishProfile=fast-startup"]);
        return Require(Path.Combine(output, "factory"));
    }

    /// <summary>
    /// The Native AOT publish of the factory that agents register: the agent build
    /// (src/Server/Properties/PublishProfiles/native-aot-agent.pubxml). --factory-aot takes another, such as the
    /// full native-aot build.
    /// </summary>
    public static async Task<string> FactoryAotAsync(BenchOptions options)
    {
        if (options.FactoryAot is { } given)
            return Require(given);
        var output = Path.Combine(RepoRoot, "artifacts", "bench", "factory-aot-agent");
        Console.Error.WriteLine($"publishing factory (Native AOT, the agent build) to {output} ...");
        await PublishAsync(Path.Combine(RepoRoot, "src", "Server"), output, ["-p:PublishProfile=native-aot-agent"]);
        return Require(Path.Combine(output, "factory"));
    }

    /// <summary>
    /// The full Native AOT publish of the factory (src/Server/Properties/PublishProfiles/native-aot.pubxml): what
    /// serves HTTP (`factory up`, `serve --http`) fastest. --factory-full-aot takes one already published.
    /// </summary>
    public static async Task<string> FactoryFullAotAsync(BenchOptions options)
    {
        if (options.FactoryFullAot is { } given)
            return Require(given);
        var output = Path.Combine(RepoRoot, "artifacts", "bench", "factory-aot-full");
        Console.Error.WriteLine($"publishing factory (Native AOT, the full build) to {output} ...");
        await PublishAsync(Path.Combine(RepoRoot, "src", "Server"), output, ["-p:PublishProfile=native-aot"]);
        return Require(Path.Combine(output, "factory"));
    }

    /// <summary>The bare server published with Native AOT, like the factory's native-aot profile.</summary>
    public static Task<string> BareAotAsync(BenchOptions options) =>
        options.BareAot is { } given ? Task.FromResult(Require(given)) : BareAsync("bare-aot", AotArguments);

    public static Task<string> BareAsync(BenchOptions options) =>
        options.Bare is { } given ? Task.FromResult(Require(given)) : BareAsync("bare", []);

    /// <summary>The bare server published like the fast-startup factory.</summary>
    public static Task<string> BareCompositeAsync(BenchOptions options) =>
        options.BareComposite is { } given
            ? Task.FromResult(Require(given))
            : BareAsync("bare-composite", CompositeArguments);

    /// <summary>Publish arguments of the Native AOT flavour of the bare server.</summary>
    private static readonly string[] AotArguments =
    [
        "-p:PublishAot=true",
        "-p:SelfContained=true",
        "-p:PublishReadyToRun=false",
    ];

    private static async Task<string> BareAsync(string flavour, string[] publishArguments)
    {
        var source = Path.Combine(RepoRoot, "artifacts", "bench", "bare-src");
        var output = Path.Combine(RepoRoot, "artifacts", "bench", flavour);
        var executable = Path.Combine(output, BareServer.AssemblyName);
        var files = BareServer.Files(SdkVersion(), HostingVersion());
        var stamp = Convert.ToHexString(
            SHA256.HashData(
                Encoding.UTF8.GetBytes(
                    string.Join("\0", files.Select(f => f.Key + "\0" + f.Value).Concat(publishArguments))
                )
            )
        );
        var stampFile = Path.Combine(output, ".source-sha256");
        if (File.Exists(executable) && File.Exists(stampFile) && File.ReadAllText(stampFile) == stamp)
            return executable;
        Directory.CreateDirectory(source);
        foreach (var (name, text) in files)
            await File.WriteAllTextAsync(Path.Combine(source, name), text);
        Console.Error.WriteLine($"publishing the bare SDK server ({flavour}) to {output} ...");
        await PublishAsync(source, output, publishArguments);
        await File.WriteAllTextAsync(stampFile, stamp);
        return Require(executable);
    }

    /// <summary>The SDK version the factory builds on, from Directory.Packages.props, so the bare server uses the same.</summary>
    private static string SdkVersion() => PackageVersion("ModelContextProtocol");

    private static string HostingVersion() => PackageVersion("Microsoft.Extensions.Hosting");

    private static string PackageVersion(string id)
    {
        var props = System.Xml.Linq.XDocument.Load(Path.Combine(RepoRoot, "Directory.Packages.props"));
        return props
            .Descendants("PackageVersion")
            .First(e => (string?)e.Attribute("Include") == id)
            .Attribute("Version")!
            .Value;
    }

    private static async Task PublishAsync(string project, string output, string[] extra)
    {
        var result = await ProcessRunner.RunAsync(
            new ProcessSpec(
                "dotnet",
                ["publish", project, "-c", "Release", "-o", output, "-nologo", "-v", "quiet", .. extra]
            )
            {
                EnvironmentOverrides = new Dictionary<string, string?> { ["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1" },
                Timeout = TimeSpan.FromMinutes(40), // a Native AOT publish on a loaded 2-core machine
            }
        );
        if (!result.Succeeded)
            throw new InvalidOperationException(
                $"dotnet publish {project} failed ({result.ExitCode}):\n{result.Output}"
            );
    }

    private static string Require(string executable) =>
        File.Exists(executable) ? executable : throw new FileNotFoundException($"{executable} does not exist.");

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FactoryMcp.sln")))
            dir = dir.Parent;
        return dir?.FullName
            ?? throw new InvalidOperationException("Cannot find FactoryMcp.sln above the benchmark's binaries.");
    }
}
