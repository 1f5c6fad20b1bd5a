using FactoryMcp.Ledger.Audit;
using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Gate;
using FactoryMcp.Tools.Git;

namespace FactoryMcp.Tests.Gate;

/// <summary>Validation runs code the agent wrote: it must not see secrets, write the ledger, leave processes behind, or run the agent's git config.</summary>
public sealed class SandboxTests
{
    [Fact]
    public void Bubblewrap_IsAvailable_ForTheseTests()
    {
        // CI installs Debian's bubblewrap; without it every test below would prove nothing.
        Assert.True(CommandSandbox.Available, "bubblewrap is not usable here; install the Debian package bubblewrap");
    }

    [Fact]
    public async Task Validation_ReadingHomeSecretsOrTheLedgerKey_Fails_AndLeaksNothing()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(reproduction: null));
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        var key = gate.Factory.Paths.AuditKey;
        var secret = (await File.ReadAllTextAsync(key)).Trim();
        await gate.WriteAsync(
            "tests/test_greet.sh",
            $"#!/bin/sh\ncat {key}\nls -a {home}/.ssh {home}\nhead -c 100 {gate.Factory.Paths.LedgerFile}\n"
        );
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        await gate.PlanAsync();

        var e = await gate.RefusedAsync();

        Assert.Contains(e.Problems, p => p.Contains("validation command `sh tests/test_greet.sh`"));
        var output = (await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId))
            .Single(x => x.Kind == "test_output")
            .Content!;
        Assert.Contains("No such file or directory", output);
        Assert.DoesNotContain(secret, output);
        Assert.DoesNotContain("SQLite format", output);
    }

    [Fact]
    public async Task Validation_WritingTheLedger_Fails_AndTheLedgerStaysIntact()
    {
        using var gate = await GateHarness.CreateAsync(
            GateHarness.Packet(reproduction: null, validation: "sh tests/test_greet.sh && sh tests/tamper.sh")
        );
        var ledger = gate.Factory.Paths.LedgerFile;
        await gate.WriteAsync(
            "tests/tamper.sh",
            $"#!/bin/sh\nset -e\necho garbage >> {ledger}\nrm -f {gate.Factory.Paths.AuditHead}\n"
        );
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        await gate.PlanAsync();
        var before = await File.ReadAllBytesAsync(gate.Factory.Paths.AuditHead);

        var e = await gate.RefusedAsync();

        Assert.Contains(e.Problems, p => p.Contains("tamper.sh"));
        Assert.True(File.Exists(gate.Factory.Paths.AuditHead));
        var report = await AuditVerifier.VerifyAsync(gate.Factory.Services.Db);
        Assert.True(report.Ok, string.Join("\n", report.Problems));
        Assert.NotEmpty(before);
    }

    [Fact]
    public async Task Validation_HasNoNetworkUnlessTheLineAllowsIt()
    {
        using var gate = await GateHarness.CreateAsync(
            GateHarness.Packet(
                reproduction: null,
                validation: "sh tests/test_greet.sh && cat /proc/net/dev | grep -v lo: | tail -n +3 | grep -q . && echo has-network || { echo loopback-only; exit 3; }"
            )
        );
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        await gate.PlanAsync();
        var e = await gate.RefusedAsync();
        Assert.Contains(e.Problems, p => p.Contains("exited 3"));
    }

    [Fact]
    public async Task Validation_HasTheHostsNetwork_WhenTheLineAllowsIt()
    {
        using var gate = await GateHarness.CreateAsync(
            GateHarness.Packet(
                reproduction: null,
                validation: "sh tests/test_greet.sh && cat /proc/net/dev | grep -v lo: | tail -n +3 | grep -q . && echo has-network || { echo loopback-only; exit 3; }"
            ),
            lines: "bugfix:\n  network: true\n"
        );
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        await gate.PlanAsync();

        Assert.Equal("accepted", (await gate.DeclareAsync()).Outcome);
        var output = (await gate.Factory.Services.Evidence.ForRunAsync(gate.RunId)).Single(x =>
            x.Kind == "test_output"
        );
        Assert.Contains("has-network", output.Content);
        Assert.Contains("commands passed, sandboxed", output.Summary);
    }

    [Fact]
    public async Task Validation_DetachedGrandchild_IsDeadAfterATimeout()
    {
        var marker = $"313.{Random.Shared.Next(100000, 999999)}";
        using var gate = await GateHarness.CreateAsync(
            GateHarness.Packet(
                reproduction: null,
                validation: $"sh tests/test_greet.sh && (setsid sleep {marker} &) && sleep 60",
                extraFrontMatter: "timeout_seconds: 3"
            )
        );
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        await gate.PlanAsync();

        var e = await gate.RefusedAsync();

        Assert.Contains(e.Problems, p => p.Contains("timed out after 3s"));
        Assert.False(await Survivors.SleepingAsync(marker), $"a detached `sleep {marker}` survived the timeout");
    }

    [Fact]
    public async Task Validation_DetachedGrandchild_IsDeadEvenWhenTheCommandSucceeds()
    {
        var marker = $"314.{Random.Shared.Next(100000, 999999)}";
        using var gate = await GateHarness.CreateAsync(
            GateHarness.Packet(
                reproduction: null,
                validation: $"sh tests/test_greet.sh && (nohup setsid sleep {marker} >/dev/null 2>&1 &)"
            )
        );
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        await gate.PlanAsync();
        Assert.Equal("accepted", (await gate.DeclareAsync()).Outcome);
        Assert.False(await Survivors.SleepingAsync(marker), $"a detached `sleep {marker}` outlived validation");
    }

    [Fact]
    public async Task MaliciousGitConfigInTheWorkspace_RunsNothing()
    {
        using var gate = await GateHarness.CreateAsync(GateHarness.Packet(reproduction: null));
        await gate.PlanAsync();
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        var ws = new GitRunner.Options { WorkingDirectory = gate.Workspace };
        await GitRunner.OutputAsync(["commit", "-qam", "fix"], ws);
        var head = await GitRunner.OutputAsync(["rev-parse", "HEAD"], ws);

        // After its commit, the agent plants traps for any git the server might run in its workspace.
        var markers = Path.Combine(gate.Factory.Root, "markers");
        Directory.CreateDirectory(markers);
        var hooks = Path.Combine(gate.Workspace, ".git", "evil-hooks");
        Directory.CreateDirectory(hooks);
        foreach (
            var hook in new[]
            {
                "pre-commit",
                "post-checkout",
                "reference-transaction",
                "pre-auto-gc",
                "post-index-change",
                "fsmonitor-watchman",
                "pre-upload-pack",
                "post-update",
            }
        )
        {
            var script = Path.Combine(hooks, hook);
            await File.WriteAllTextAsync(script, $"#!/bin/sh\ntouch {markers}/hook-{hook}\n");
            File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        var trap = $"touch {markers}/config";
        await File.AppendAllTextAsync(
            Path.Combine(gate.Workspace, ".git", "config"),
            $"""
            [core]
                hooksPath = {hooks}
                fsmonitor = {trap}-fsmonitor
                sshCommand = {trap}-ssh
                pager = {trap}-pager
            [diff]
                external = {trap}-diff
            [filter "evil"]
                clean = {trap}-clean
                smudge = {trap}-smudge
            [uploadpack]
                packObjectsHook = {trap}-packobjects
            [alias]
                fetch = !{trap}-alias

            """
        );
        await gate.WriteAsync(".gitattributes", "* filter=evil diff=evil\n");

        Assert.Equal("accepted", (await gate.DeclareAsync(headCommit: head)).Outcome);
        Assert.Empty(Directory.GetFiles(markers));
    }

    [Fact]
    public async Task Snapshot_OfATrappedWorkspace_RunsNothing()
    {
        using var gate = await GateHarness.CreateAsync(
            GateHarness.Packet(reproduction: null, scope: "- src/\n- tests/\n- .gitattributes")
        );
        await gate.PlanAsync();
        var markers = Path.Combine(gate.Factory.Root, "markers");
        Directory.CreateDirectory(markers);
        var trap = $"touch {markers}/config";
        await File.AppendAllTextAsync(
            Path.Combine(gate.Workspace, ".git", "config"),
            $"[core]\n    fsmonitor = {trap}-fsmonitor\n[filter \"evil\"]\n    clean = {trap}-clean\n"
        );
        await gate.WriteAsync(".gitattributes", "*.sh filter=evil\n");
        await gate.WriteAsync("src/greet.sh", GateHarness.FixedGreeting);
        Assert.Equal("accepted", (await gate.DeclareAsync()).Outcome);
        Assert.Empty(Directory.GetFiles(markers));
    }
}
