using System.Diagnostics;
using FactoryMcp.ChildProcesses;
using FactoryMcp.Tests.Gate;
using FactoryMcp.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace FactoryMcp.Tests.EndToEnd;

/// <summary>The gate across real server processes: slow validations, killed servers, a missing sandbox.</summary>
public sealed class GateEndToEndTests : IDisposable
{
    private readonly TempDirectory root = new("gate-e2e");

    public void Dispose() => root.Dispose();

    private static string Text(CallToolResult result) =>
        string.Join("\n", result.Content.OfType<TextContentBlock>().Select(b => b.Text));

    private async Task<TempRepo> ProjectAsync(string packet, string factoryYaml, string? linesYaml = null)
    {
        var repo = await TempRepo.CreateAsync(
            root.Combine("app"),
            new Dictionary<string, string>
            {
                ["src/greet.sh"] = GateHarness.BuggyGreeting,
                ["tests/test_greet.sh"] = GateHarness.GreetingTest,
            }
        );
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["init", "--test"])).ExitCode);
        await File.WriteAllTextAsync(Path.Combine(repo.Path, ".factory", "factory.yaml"), factoryYaml);
        if (linesYaml is not null)
            await File.WriteAllTextAsync(Path.Combine(repo.Path, ".factory", "lines.yaml"), linesYaml);
        var file = root.Combine("packet.md");
        await File.WriteAllTextAsync(file, packet);
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["task", "add", file])).ExitCode);
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["approve", "1"])).ExitCode);
        return repo;
    }

    internal static async Task<(long RunId, string Workspace)> ClaimAndFixAsync(McpClient client)
    {
        var claimed = await client.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
        var runId = claimed.StructuredContent!.Value.GetProperty("run_id").GetInt64();
        var workspace = claimed.StructuredContent!.Value.GetProperty("workspace").GetString()!;
        await client.CallToolAsync(
            "record_evidence",
            new Dictionary<string, object?>
            {
                ["run_id"] = runId,
                ["kind"] = "plan",
                ["summary"] = "fix the typo",
            }
        );
        await File.WriteAllTextAsync(Path.Combine(workspace, "src", "greet.sh"), GateHarness.FixedGreeting);
        return (runId, workspace);
    }

    private static string? OutcomeOf(CallToolResult result) =>
        result.StructuredContent is { } s && s.TryGetProperty("outcome", out var o) ? o.GetString() : null;

    internal static Dictionary<string, object?> PrReady(long runId) =>
        new()
        {
            ["run_id"] = runId,
            ["state"] = "PR_READY",
            ["summary"] = "fixed the typo",
        };

    // The path a validation longer than the agent's patience takes (DESIGN section 4: the first call answers
    // "validating", the same call again answers the outcome), at a scale of seconds: the 40 s default and its
    // 50 s ceiling are held on the ledger's clock in DeclareWaitTests.
    [Fact]
    public async Task Validation_OutlivingTheDeclarationsWait_EndsCorrectlyWhenTheClientCallsAgain()
    {
        var repo = await ProjectAsync(
            GateHarness.Packet(validation: "sleep 6 && sh tests/test_greet.sh", reproduction: null),
            "declare_wait_seconds: 2\nvalidation_lease_seconds: 10\n"
        );
        await using var client = await FactoryBinary.ConnectAsync(repo.Path, "codex-1");
        var (runId, _) = await ClaimAndFixAsync(client);

        var clock = Stopwatch.StartNew();
        var first = await client.CallToolAsync("declare_terminal_state", PrReady(runId));
        Assert.True(
            clock.Elapsed >= TimeSpan.FromSeconds(2),
            $"the call answered after {clock.Elapsed}, before its wait"
        );
        Assert.Equal("validating", first.StructuredContent!.Value.GetProperty("outcome").GetString());
        Assert.Contains("Call declare_terminal_state again with the same arguments", Text(first));

        var outcome = await Redeclare.UntilDecidedAsync(client, PrReady(runId));
        Assert.True(outcome.IsError != true, Text(outcome));
        Assert.Equal("accepted", outcome.StructuredContent!.Value.GetProperty("outcome").GetString());
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(6), "accepted before the validation's 6 s sleep ended");
    }

    [Fact]
    public async Task Server_KilledMidValidation_AnotherServerProcessFinishesTheJob()
    {
        var repo = await ProjectAsync(
            GateHarness.Packet(validation: "sleep 6 && sh tests/test_greet.sh", reproduction: null),
            "declare_wait_seconds: 1\nvalidation_lease_seconds: 3\n"
        );
        var ledger = Path.Combine(repo.Path, ".factory", "ledger.db");

        await using var first = await StartServerAsync(repo.Path, "claude-1");
        long runId;
        await using (
            var client = await McpClient.CreateAsync(
                new StreamClientTransport(first.StandardInput, first.StandardOutput)
            )
        )
        {
            (runId, _) = await ClaimAndFixAsync(client);
            var declared = await client.CallToolAsync("declare_terminal_state", PrReady(runId));
            Assert.Equal("validating", declared.StructuredContent!.Value.GetProperty("outcome").GetString());
            await WaitForAsync(() => JobStateAsync(ledger) == "running");
            await first.KillAsync(); // SIGKILL: no goodbye, the job's lease simply stops being renewed
        }

        Assert.Equal("running", JobStateAsync(ledger));
        await using var second = await FactoryBinary.ConnectAsync(repo.Path, "claude-1");
        var outcome = await Redeclare.UntilDecidedAsync(second, PrReady(runId), TimeSpan.FromMinutes(2));

        Assert.True(outcome.IsError != true, Text(outcome));
        Assert.Equal("accepted", outcome.StructuredContent!.Value.GetProperty("outcome").GetString());
        Assert.Equal(2L, Scalar(ledger, "SELECT starts FROM validation_jobs"));
        Assert.Equal(0, (await FactoryBinary.RunAsync(repo.Path, ["ledger", "verify"])).ExitCode);
    }

    [Fact]
    public async Task LineRequiringASandbox_RefusesUnsandboxedValidation()
    {
        var repo = await ProjectAsync(
            GateHarness.Packet(reproduction: null),
            "declare_wait_seconds: 30\n",
            "bugfix:\n  require_sandbox: true\n"
        );
        await using var client = await FactoryBinary.ConnectAsync(
            repo.Path,
            "gemini-1",
            env: new Dictionary<string, string?> { ["FACTORY_SANDBOX"] = "off" }
        );
        var (runId, _) = await ClaimAndFixAsync(client);
        var result = await client.CallToolAsync("declare_terminal_state", PrReady(runId));
        Assert.True(result.IsError);
        Assert.Contains("requires sandboxed validation", Text(result));
        var evidence = await client.CallToolAsync("get_task_packet", new Dictionary<string, object?>());
        Assert.Equal("resumed", evidence.StructuredContent!.Value.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Validation_NeverSeesTheServersSecrets_EvenWhenTheLineAsksToPassThemThrough()
    {
        const string Marker = "LEAKMARKER7731";
        var repo = await ProjectAsync(
            GateHarness.Packet(validation: "sh tests/test_greet.sh && sh tests/leak.sh", reproduction: null),
            "declare_wait_seconds: 30\n",
            "bugfix:\n  env_passthrough: [GITHUB_TOKEN, FACTORY_HOOKS_SECRET, GH_TOKEN, MY_SAFE_VAR]\n"
        );
        var secrets = new Dictionary<string, string?>
        {
            ["GITHUB_TOKEN"] = "ghp_" + Marker,
            ["GH_TOKEN"] = "gho_" + Marker,
            ["FACTORY_HOOKS_SECRET"] = "hooks-" + Marker,
            ["MY_SAFE_VAR"] = "visible",
        };
        await using var client = await FactoryBinary.ConnectAsync(repo.Path, "claude-1", env: secrets);
        var (runId, workspace) = await ClaimAndFixAsync(client);
        // Code the agent wrote, run by the server's validation: it looks for the secrets everywhere it can.
        await File.WriteAllTextAsync(
            Path.Combine(workspace, "tests", "leak.sh"),
            $$"""
            #!/bin/sh
            if env | grep -q {{Marker}}; then echo "leaked through the environment"; exit 9; fi
            if cat /proc/*/environ 2>/dev/null | tr '\0' '\n' | grep -q {{Marker}}; then echo "leaked through /proc"; exit 9; fi
            echo "safe=$MY_SAFE_VAR"
            """
        );

        var outcome = await Redeclare.UntilDecidedAsync(client, PrReady(runId));

        Assert.True(outcome.IsError != true, Text(outcome));
        Assert.Equal("accepted", Redeclare.OutcomeOf(outcome));
        var output = (string?)ScalarObject(
            Path.Combine(repo.Path, ".factory", "ledger.db"),
            "SELECT content FROM evidence WHERE kind = 'test_output' AND origin = 'server'"
        );
        Assert.Contains("safe=visible", output); // passthrough works for an ordinary variable
        Assert.DoesNotContain(Marker, output);
    }

    /// <summary>`factory serve` as a plain child process, so the test holds its pid and can SIGKILL it.</summary>
    internal static Task<ChildProcess> StartServerAsync(string workingDirectory, string agent) =>
        ChildProcess.StartAsync(
            FactoryBinary.Path,
            ["serve"],
            workingDirectory,
            FactoryBinary.CleanEnvironment(new Dictionary<string, string?> { ["FACTORY_AGENT"] = agent }),
            interactive: true
        );

    private static string? JobStateAsync(string ledger) =>
        (string?)ScalarObject(ledger, "SELECT state FROM validation_jobs ORDER BY id DESC LIMIT 1");

    private static long Scalar(string ledger, string sql) => (long)ScalarObject(ledger, sql)!;

    /// <summary>One value read from a SQLite ledger file behind the server's back (read-only, no pool).</summary>
    internal static object? ScalarObject(string ledger, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={ledger};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>Polls <paramref name="condition"/> every 100 ms until it holds, for at most <paramref name="seconds"/>.</summary>
    internal static async Task WaitForAsync(Func<bool> condition, int seconds = 60)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"condition not reached in {seconds} s");
            await Task.Delay(100);
        }
    }
}
