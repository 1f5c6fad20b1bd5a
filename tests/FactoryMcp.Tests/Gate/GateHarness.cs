using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Agents;
using FactoryMcp.Ledger.Declarations;
using FactoryMcp.Ledger.Evidence;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Tests.Infrastructure;

namespace FactoryMcp.Tests.Gate;

/// <summary>
/// A project whose greeting has a bug ("hello wrld"), a builder holding a run on it, and helpers to
/// change the workspace and declare. factory.yaml sets declare_wait_seconds to 0, so a declaration
/// answers "validating" at once; the harness then runs the server's worker and asks again, exactly as
/// an agent calling back would.
/// </summary>
public sealed class GateHarness : IDisposable
{
    public const string BuggyGreeting = "#!/bin/sh\necho \"hello wrld\"\n";
    public const string FixedGreeting = "#!/bin/sh\necho \"hello world\"\n";
    public const string GreetingTest =
        "#!/bin/sh\nout=$(sh src/greet.sh)\n[ \"$out\" = \"hello world\" ] || { echo \"expected hello world, got $out\"; exit 1; }\necho ok\n";

    private GateHarness(TestFactory factory, Caller builder, PacketViewLite view)
    {
        Factory = factory;
        Builder = builder;
        RunId = view.RunId;
        Workspace = view.Workspace;
        TaskId = view.TaskId;
    }

    private sealed record PacketViewLite(long RunId, long TaskId, string Workspace);

    public TestFactory Factory { get; }
    public Caller Builder { get; }
    public long RunId { get; }
    public long TaskId { get; }
    public string Workspace { get; }

    public static string Packet(
        string validation = "sh tests/test_greet.sh",
        string? reproduction = "sh tests/test_greet.sh",
        string extraFrontMatter = "",
        string scope = "- src/\n- tests/",
        string nonGoals = "- tests/legacy/",
        string evidence = "- plan\n- diff\n- test_output",
        string? expect = null
    ) =>
        $"""
            ---
            line: bugfix
            {extraFrontMatter}
            ---
            # Greeting says hello world

            ## Intent
            The greeting must say "hello world".

            ## Scope
            {scope}

            ## Non-Goals
            {nonGoals}

            {(
                reproduction is null
                    ? ""
                    : $"## Reproduction\n- `{reproduction}`\n{(expect is null ? "" : $"\nexpect: {expect}\n")}"
            )}
            ## Validation
            - `{validation}`

            ## Evidence Required
            {evidence}
            """;

    public static async Task<GateHarness> CreateAsync(
        string? packet = null,
        bool withTest = true,
        string? lines = null,
        IDictionary<string, string>? extraFiles = null,
        LedgerEngine engine = LedgerEngine.Sqlite
    )
    {
        var files = new Dictionary<string, string>
        {
            ["README.md"] = "# greet\n",
            ["src/greet.sh"] = BuggyGreeting,
            ["tests/legacy/old_test.sh"] = "#!/bin/sh\nexit 0\n",
        };
        if (withTest)
            files["tests/test_greet.sh"] = GreetingTest;
        if (extraFiles is not null)
            foreach (var (k, v) in extraFiles)
                files[k] = v;
        var factory = await TestFactory.CreateAsync(lines, files, engine);
        await File.WriteAllTextAsync(
            factory.Paths.FactoryConfig,
            "declare_wait_seconds: 0\nvalidation_lease_seconds: 5\n"
        );
        await factory.ApprovedTaskAsync(packet ?? Packet());
        var builder = await factory.BuilderAsync();
        var view = await factory.Services.Packets.GetTaskPacketAsync(builder, null, false);
        return new GateHarness(
            factory,
            builder,
            new PacketViewLite(view.RunId!.Value, view.TaskId!.Value, view.Workspace!)
        );
    }

    public Task WriteAsync(string relative, string content)
    {
        var path = Path.Combine(Workspace, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return File.WriteAllTextAsync(path, content);
    }

    public Task PlanAsync() =>
        Factory.Services.Evidence.RecordEvidenceAsync(
            Builder,
            new EvidenceInput(RunId, "plan", "fix the greeting"),
            Factory.Services.Config.Lines
        );

    /// <summary>Declares, lets the server's worker finish the job, and declares again for the outcome.</summary>
    public async Task<DeclarationResult> DeclareAsync(
        string state = "PR_READY",
        string? reason = null,
        string? headCommit = null
    )
    {
        var input = new DeclarationInput(RunId, state, "done", Reason: reason, HeadCommit: headCommit);
        var first = await Factory.Services.Gate.DeclareAsync(Builder, input);
        if (first.Outcome != "validating")
            return first;
        await RunWorkerAsync();
        return await Factory.Services.Gate.DeclareAsync(Builder, input);
    }

    /// <summary>
    /// Runs the worker until it has completed a job (a host-wide slot may be briefly taken by another test). The
    /// ledger's clock moves with real time meanwhile, as it would in production: a job starts after it was queued
    /// and its commands (stamped when they finish, with their real duration) start after the job did.
    /// </summary>
    public async Task RunWorkerAsync()
    {
        using var paced = Factory.Time.Paced();
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (!await Factory.Services.Worker.RunOnceAsync(CancellationToken.None))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException("no validation slot became free");
            await Task.Delay(100);
        }
    }

    public async Task<LedgerException> RefusedAsync(
        string state = "PR_READY",
        string? reason = null,
        string? headCommit = null
    ) => await Assert.ThrowsAsync<LedgerException>(() => DeclareAsync(state, reason, headCommit));

    public void Dispose() => Factory.Dispose();
}
