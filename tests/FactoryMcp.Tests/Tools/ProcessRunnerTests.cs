using FactoryMcp.Tests.Infrastructure;
using FactoryMcp.Tools.Processes;

namespace FactoryMcp.Tests.Tools;

/// <summary>The process runner under git, validation commands, notifications and drain sessions: real processes.</summary>
public sealed class ProcessRunnerTests : IDisposable
{
    private readonly TempDirectory dir = new("proc");

    public void Dispose() => dir.Dispose();

    private static ProcessSpec Shell(string script) => new("/bin/sh", ["-c", script]);

    [Fact]
    public async Task RunAsync_OutputFile_KeepsEveryByteAsWritten()
    {
        var file = dir.Combine("out.log");
        var result = await ProcessRunner.RunAsync(
            Shell(@"printf 'a\r\nb\000c\377\nno newline at the end'") with
            {
                OutputFile = file,
            }
        );

        byte[] expected = [.. "a\r\nb"u8, 0, (byte)'c', 0xFF, .. "\nno newline at the end"u8];
        Assert.True(result.Succeeded, result.Output);
        Assert.Equal(expected, await File.ReadAllBytesAsync(file));
        Assert.StartsWith("a\r\nb\0c", result.StandardOutput);
        Assert.EndsWith("\nno newline at the end", result.StandardOutput);
        Assert.Equal(expected.Length, result.OutputBytes);
    }

    [Fact]
    public async Task RunAsync_LongOutput_KeepsHeadAndTailCountedInBytes_AndTheFileWhole()
    {
        var file = dir.Combine("out.log");
        var result = await ProcessRunner.RunAsync(
            Shell("head -c 5000 /dev/zero | tr '\\0' a; head -c 5000 /dev/zero | tr '\\0' b") with
            {
                CaptureBytes = 1000,
                OutputFile = file,
            }
        );

        Assert.True(result.Truncated);
        Assert.Equal(10_000, result.OutputBytes);
        Assert.Equal(new string('a', 500) + "\n… [9000 bytes omitted] …\n" + new string('b', 500), result.Output);
        Assert.Equal(10_000, new FileInfo(file).Length);
    }

    [Fact]
    public async Task RunAsync_CutInsideACharacter_LeavesNoBrokenCharacter()
    {
        var result = await ProcessRunner.RunAsync(
            Shell("i=0; while [ $i -lt 1000 ]; do printf 'é'; i=$((i+1)); done") with
            {
                CaptureBytes = 103,
            }
        );

        Assert.True(result.Truncated);
        Assert.DoesNotContain('\uFFFD', result.StandardOutput);
        Assert.StartsWith(new string('é', 25) + "\n…", result.StandardOutput);
        Assert.EndsWith("…\n" + new string('é', 25), result.StandardOutput);
    }

    [Fact]
    public async Task RunAsync_Arguments_ArriveExactlyAsGiven()
    {
        string[] words =
        [
            "plain",
            "two words",
            "",
            "quote \" inside",
            @"back\slash",
            @"trailing backslash\",
            @"backslash before quote \""",
            "it's",
            "line\nbreak and\ttab",
            "$HOME `id` ; rm -rf /",
            "ünïcödé ✓",
        ];
        var result = await ProcessRunner.RunAsync(
            new ProcessSpec("/bin/sh", ["-c", "printf '%s\\0' \"$@\"", "sh", .. words])
        );

        Assert.True(result.Succeeded, result.Output);
        Assert.Equal(words, result.StandardOutput.Split('\0')[..^1]);
    }

    [Fact]
    public async Task RunAsync_StandardInput_ReachesTheChild()
    {
        var result = await ProcessRunner.RunAsync(new ProcessSpec("cat", []) { StandardInput = "héllo\nworld" });

        Assert.Equal("héllo\nworld", result.StandardOutput);
    }

    [Fact]
    public async Task RunAsync_ExactEnvironment_IsAllTheChildSees_AndOverridesAddAndRemove()
    {
        var exact = await ProcessRunner.RunAsync(
            new ProcessSpec("/usr/bin/env", [])
            {
                Environment = new Dictionary<string, string> { ["ONLY"] = "this", ["PATH"] = "/usr/bin:/bin" },
            }
        );
        var overridden = await ProcessRunner.RunAsync(
            new ProcessSpec("/usr/bin/env", [])
            {
                EnvironmentOverrides = new Dictionary<string, string?> { ["ADDED"] = "yes", ["PATH"] = null },
            }
        );

        Assert.Equal(
            ["ONLY=this", "PATH=/usr/bin:/bin"],
            exact.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order()
        );
        Assert.Contains("ADDED=yes\n", overridden.StandardOutput);
        Assert.DoesNotContain("\nPATH=", "\n" + overridden.StandardOutput);
        Assert.Contains("\nHOME=", "\n" + overridden.StandardOutput);
    }

    [Fact]
    public async Task RunAsync_Timeout_KillsTheWholeGroup_EvenAChildThatLeftTheTree()
    {
        var marker = Marker();
        var result = await ProcessRunner.RunAsync(
            Shell($"echo started; (sleep {marker} &); sleep 60") with
            {
                Timeout = TimeSpan.FromSeconds(2),
                NewProcessGroup = true,
            }
        );

        Assert.True(result.TimedOut);
        Assert.Equal(124, result.ExitCode);
        Assert.Equal("started\n", result.StandardOutput);
        Assert.False(await Survivors.SleepingAsync(marker), $"`sleep {marker}` outlived the timeout");
    }

    [Fact]
    public async Task RunAsync_AfterExit_KillsWhatTheCommandLeftRunningInItsGroup()
    {
        var marker = Marker();
        var result = await ProcessRunner.RunAsync(Shell($"(sleep {marker} &); exit 3") with { NewProcessGroup = true });

        Assert.Equal(3, result.ExitCode);
        Assert.False(result.TimedOut);
        Assert.False(await Survivors.SleepingAsync(marker), $"`sleep {marker}` outlived its command");
    }

    [Fact]
    public async Task RunAsync_DetachedGrandchildHoldingTheOutput_DoesNotHoldTheResult()
    {
        // Outside the sandbox a setsid grandchild escapes the group; the runner must still return while it lives.
        var marker = Marker();
        var pidFile = dir.Combine("grandchild.pid");
        var result = await ProcessRunner.RunAsync(
            // The grandchild writes its pid once it has left the group; the command waits for that, then ends.
            Shell(
                $"setsid sh -c 'echo $$ > {pidFile}; exec sleep {marker}' & while [ ! -s {pidFile} ]; do :; done; cat {pidFile}"
            ) with
            {
                NewProcessGroup = true,
                Timeout = TimeSpan.FromSeconds(30),
            }
        );
        var pid = int.Parse(result.StandardOutput.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        try
        {
            Assert.True(result.Succeeded, result.Output);
            Assert.True(
                await Survivors.SleepingAsync(marker),
                "the grandchild should still be running: the runner did not wait for it"
            );
        }
        finally
        {
            ProcessRunner.KillGroup(pid);
        }
    }

    [Fact]
    public async Task RunAsync_Cancelled_Throws_AndKillsTheGroup()
    {
        var marker = Marker();
        using var cts = new CancellationTokenSource();
        var run = ProcessRunner.RunAsync(
            Shell($"(sleep {marker} &); echo ready; sleep 60") with
            {
                NewProcessGroup = true,
            },
            cts.Token
        );
        while (!await Survivors.SleepingAsync(marker))
            await Task.Yield();
        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
        Assert.False(await Survivors.SleepingAsync(marker), $"`sleep {marker}` outlived the cancellation");
    }

    [Fact]
    public async Task RunAsync_MissingProgram_SaysSo()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() =>
            ProcessRunner.RunAsync(new ProcessSpec("no-such-program-313", []))
        );
        Assert.Contains("Could not start 'no-such-program-313'", e.Message);
    }

    private static string Marker() => $"31{Random.Shared.Next(100, 999)}.{Random.Shared.Next(100000, 999999)}";
}
