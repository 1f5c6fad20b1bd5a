using FactoryMcp.Tools.Processes;
using ModelContextProtocol.Client;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// The published, ReadyToRun `factory` executable (the test project publishes it on build), run as a
/// real process: CLI commands, and `factory serve` driven by the SDK's own stdio client.
/// </summary>
public static class FactoryBinary
{
    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>The published executable, checked once per run to be as new as every source it is built from.</summary>
    public static string Path => Published.Value;

    private static readonly Lazy<string> Published = new(() =>
    {
        if (Environment.GetEnvironmentVariable(OtherBuild) is { Length: > 0 } other)
            return StaleSingleFile(System.IO.Path.GetFullPath(other)) is { } old
                ? throw new InvalidOperationException(old)
                : System.IO.Path.GetFullPath(other);
        var path = System.IO.Path.Combine(RepoRoot, "artifacts", "e2e", "factory", "factory");
        if (StaleReason(path) is { } stale)
            throw new InvalidOperationException(stale);
        return path;
    });

    /// <summary>
    /// Names another published `factory` for the end-to-end tests to drive instead of the ReadyToRun one, such as
    /// the Native AOT publish (README, Benchmark: "Native AOT"). Not a FACTORY_* name: the tests drop those.
    /// </summary>
    public const string OtherBuild = "E2E_FACTORY_BINARY";

    /// <summary>
    /// The agent build (src/Ledger/FactoryBuild.cs) as a command and its first arguments: the ReadyToRun publish
    /// run by `dotnet exec` with a copy of its runtimeconfig whose FactoryMcp.FullBuild switch is false, as the
    /// native-aot-agent publish profile sets it. The switch, not trimming, is what refuses: the same code runs
    /// here as in the Native AOT agent build, which merely also lacks what the switch cuts off.
    /// </summary>
    private static readonly Lazy<(string Command, string[] Prefix)> AgentBuild = new(() =>
    {
        var published = System.IO.Path.Combine(RepoRoot, "artifacts", "e2e", "factory", "factory");
        if (StaleReason(published) is { } stale)
            throw new InvalidOperationException(stale);
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(published + ".runtimeconfig.json"))!;
        config["runtimeOptions"]!["configProperties"]![FactoryMcp.Ledger.FactoryBuild.FullSwitch] = false;
        var agentConfig = System.IO.Path.Combine(RepoRoot, "artifacts", "e2e", "agent-build.runtimeconfig.json");
        File.WriteAllText(agentConfig, config.ToJsonString());
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        return (
            dotnet,
            ["exec", "--runtimeconfig", agentConfig, "--depsfile", published + ".deps.json", published + ".dll"]
        );
    });

    /// <summary>Why a single-file publish (no factory.dll beside it) cannot stand for the code under test, or null.</summary>
    private static string? StaleSingleFile(string executable)
    {
        if (!File.Exists(executable))
            return $"{OtherBuild} names {executable}, which does not exist.";
        var published = File.GetLastWriteTimeUtc(executable);
        var newer = SourcesOfTheFactory("factory.dll")
            .FirstOrDefault(s => File.GetLastWriteTimeUtc(s.File) > published);
        return newer.File is null
            ? null
            : $"{executable} is older than {System.IO.Path.GetRelativePath(RepoRoot, newer.File)}: publish it again so the end-to-end tests run the code under test.";
    }

    /// <summary>
    /// Why the published factory cannot stand for the code under test, or null: it is missing, or a source it
    /// is built from (src/, prompts/, the build props) changed after the assembly built from it was published
    /// (`dotnet test --no-build` after an edit, or a build with SkipFactoryPublish=true). Each source is held
    /// against its own project's assembly: a change inside src/Ledger that leaves its public surface alone
    /// rebuilds FactoryMcp.Ledger.dll only, never factory.dll. End-to-end tests never run a stale binary.
    /// </summary>
    public static string? StaleReason(string executable)
    {
        var folder = System.IO.Path.GetDirectoryName(executable)!;
        var dll = executable + ".dll";
        if (!File.Exists(executable) || !File.Exists(dll))
            return $"{executable} is missing: build the test project (it publishes the factory) first.";
        foreach (var (file, assembly) in SourcesOfTheFactory(System.IO.Path.GetFileName(dll)))
        {
            var built = System.IO.Path.Combine(folder, assembly);
            var published = File.Exists(built) ? File.GetLastWriteTimeUtc(built) : DateTime.MinValue;
            var changed = File.GetLastWriteTimeUtc(file);
            if (changed > published)
                return $"{built} is older than {System.IO.Path.GetRelativePath(RepoRoot, file)} ({published:O} < {changed:O}): rebuild the test project (`dotnet build tests/FactoryMcp.Tests`) so the end-to-end tests run the code under test.";
        }
        return null;
    }

    /// <summary>Every source of the factory with the published assembly built from it.</summary>
    private static IEnumerable<(string File, string Assembly)> SourcesOfTheFactory(string server)
    {
        string AssemblyOf(string relative) =>
            relative.Split('/') switch
            {
                ["src", "Ledger", ..] => "FactoryMcp.Ledger.dll",
                ["src", "Tools", ..] or ["prompts", ..] => "FactoryMcp.Tools.dll", // prompts are its resources
                _ => server,
            };
        foreach (var folder in new[] { "src", "prompts" })
        foreach (
            var file in Directory.EnumerateFiles(
                System.IO.Path.Combine(RepoRoot, folder),
                "*",
                SearchOption.AllDirectories
            )
        )
        {
            var relative = System.IO.Path.GetRelativePath(RepoRoot, file);
            if (!relative.Contains("/obj/") && !relative.Contains("/bin/"))
                yield return (file, AssemblyOf(relative));
        }
        // The build's own settings rebuild every assembly: the server's is built last.
        foreach (var props in new[] { "Directory.Build.props", "Directory.Packages.props", "global.json" })
            yield return (System.IO.Path.Combine(RepoRoot, props), server);
    }

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(System.IO.Path.Combine(dir.FullName, "FactoryMcp.sln")))
            dir = dir.Parent;
        return dir?.FullName
            ?? throw new InvalidOperationException("Cannot find FactoryMcp.sln above the test assembly.");
    }

    /// <summary>The environment a test process gets: no FACTORY_* from the developer's shell.</summary>
    public static Dictionary<string, string?> CleanEnvironment(IReadOnlyDictionary<string, string?>? extra = null)
    {
        var env = new Dictionary<string, string?>();
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
        {
            var key = (string)entry.Key;
            if (key.StartsWith("FACTORY_", StringComparison.Ordinal))
                env[key] = null;
        }
        env["FACTORY_ENV"] = "test";
        env["FACTORY_VALIDATION_SLOTS"] = TestEnvironment.SlotsFolder;
        if (extra is not null)
            foreach (var (k, v) in extra)
                env[k] = v;
        return env;
    }

    public static async Task<ProcessResult> RunAsync(
        string workingDirectory,
        IReadOnlyList<string> args,
        IReadOnlyDictionary<string, string?>? env = null,
        string? stdin = null,
        bool agentBuild = false
    )
    {
        var (command, prefix) = agentBuild ? AgentBuild.Value : (Path, []);
        return await ProcessRunner.RunAsync(
            new ProcessSpec(command, [.. prefix, .. args])
            {
                WorkingDirectory = workingDirectory,
                EnvironmentOverrides = CleanEnvironment(env),
                StandardInput = stdin,
                Timeout = TimeSpan.FromSeconds(120),
            }
        );
    }

    /// <summary>Starts `factory serve` over stdio as an agent would, and connects the SDK's client to it.</summary>
    public static async Task<McpClient> ConnectAsync(
        string workingDirectory,
        string agent,
        string? token = null,
        IReadOnlyDictionary<string, string?>? env = null,
        IList<string>? stderr = null,
        bool agentBuild = false
    )
    {
        var (command, prefix) = agentBuild ? AgentBuild.Value : (Path, []);
        var variables = CleanEnvironment(env);
        variables["FACTORY_AGENT"] = agent;
        if (token is not null)
            variables["FACTORY_TOKEN"] = token;
        var transport = new StdioClientTransport(
            new StdioClientTransportOptions
            {
                Name = agent,
                Command = command,
                Arguments = [.. prefix, "serve"],
                WorkingDirectory = workingDirectory,
                EnvironmentVariables = variables,
                StandardErrorLines = line =>
                {
                    lock (stderr ?? [])
                        stderr?.Add(line);
                },
            }
        );
        return await McpClient.CreateAsync(transport, ClientOptions);
    }

    /// <summary>
    /// The SDK's client probes with server/discover for 5 s, then falls back to initialize; a server slowed
    /// by many others starting at once may answer the probe after that, and then refuses the initialize.
    /// Waiting for the probe's answer (up to the 60 s initialization timeout) avoids that race.
    /// </summary>
    public static McpClientOptions ClientOptions => new() { DiscoverProbeTimeout = Timeout.InfiniteTimeSpan };
}
