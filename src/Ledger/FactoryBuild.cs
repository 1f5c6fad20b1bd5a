using System.Diagnostics.CodeAnalysis;

namespace FactoryMcp.Ledger;

/// <summary>
/// Which build of factory this process is. The full build (every build but one) does everything. The agent
/// build (<c>-p:PublishProfile=native-aot-agent</c>) is the Native AOT executable an agent's CLI spawns for
/// each session's <c>factory serve</c> over stdio: it leaves out serving HTTP (<c>up</c>, <c>serve --http</c>,
/// the dashboard, hooks and metrics), PostgreSQL ledgers and the stdio server's OTLP export, so that trimming
/// drops ASP.NET Core, Kestrel, Npgsql and OpenTelemetry from its image, which then starts sooner in less
/// memory (README, Benchmark: "Native AOT"). Every other command works as in the full build.
/// </summary>
public static class FactoryBuild
{
    /// <summary>The feature switch the agent build's publish profile sets to false.</summary>
    public const string FullSwitch = "FactoryMcp.FullBuild";

    /// <summary>
    /// False in the agent build. A feature switch: its publish makes this a constant, so trimming removes
    /// every branch guarded by it and what only those branches reach. Guard with <c>if (!FactoryBuild.Full)
    /// throw FactoryBuild.Refused(...)</c> in the method that reaches the full build's code, never through a
    /// helper that throws (the trimmer cannot see past a call), and in a method that is not async: an async
    /// method's code after an <c>await</c> is reached from its state machine's dispatch, past any guard.
    /// </summary>
    [FeatureSwitchDefinition(FullSwitch)]
    public static bool Full => !AppContext.TryGetSwitch(FullSwitch, out var full) || full;

    /// <summary>Why <paramref name="what"/> cannot run here, and which build to use instead.</summary>
    public static string Refusal(string what) =>
        $"{what} is not in this build of factory: it is the agent build (Native AOT, `factory serve` over stdio on a SQLite ledger, and every command but `up` and `serve --http`). Run it with the full build: `dotnet run --project src/Server -c Release -- ...`, or publish it with `dotnet publish src/Server -c Release -p:PublishProfile=native-aot -o DIR`. Nothing was changed.";

    /// <summary>The refusal as a ledger error (exit 1 on the command line, a tool error over MCP).</summary>
    public static LedgerException Refused(string what) => new(Refusal(what));
}
