using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using CliWrap;

namespace FactoryMcp.Tools.Processes;

/// <summary>
/// Runs a process with CliWrap: an argument list, an explicit environment, standard input, output bounded head
/// and tail (and byte for byte in a file when asked), a timeout. A <see cref="ProcessSpec.NewProcessGroup"/>
/// child leads its own process group, and the whole group is killed on timeout, on cancellation and after exit.
/// </summary>
public static partial class ProcessRunner
{
    /// <summary>How long output is still read after the process exited, for whatever else holds its pipes.</summary>
    private static readonly TimeSpan DrainGrace = TimeSpan.FromSeconds(5);

    public static async Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken ct = default)
    {
        using var output = new CapturedOutput(spec.CaptureBytes, spec.OutputFile, spec.OutputFileLimit);
        var command = Cli.Wrap(spec.NewProcessGroup ? "setsid" : spec.FileName)
            .WithArguments(spec.NewProcessGroup ? [spec.FileName, .. spec.Arguments] : spec.Arguments)
            .WithWorkingDirectory(spec.WorkingDirectory ?? Environment.CurrentDirectory)
            .WithEnvironmentVariables(Variables(spec))
            .WithStandardInputPipe(
                spec.StandardInput is { } input ? PipeSource.FromString(input, Encoding.UTF8) : PipeSource.Null
            )
            .WithStandardOutputPipe(output.Into(output.StandardOutput))
            .WithStandardErrorPipe(output.Into(output.StandardError))
            .WithValidation(CommandResultValidation.None);

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct, spec.Abort);
        stop.CancelAfter(spec.Timeout);
        var started = Stopwatch.StartNew();
        Task? exited = null;
        void Started(Process process) => exited = AfterExitAsync(process, spec.NewProcessGroup, output);
        CommandTask<CommandResult> task;
        try
        {
            task = spec.NewProcessGroup
                ? await Spawner.StartAsync(command, Started, stop.Token)
                : command.ExecuteAsync(null, Started, stop.Token, CancellationToken.None);
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException(
                $"Could not start '{spec.FileName}': {e.InnerException?.Message ?? e.Message}. Is it installed and on PATH?",
                e
            );
        }

        // CliWrap kills the child and its descendants; a group also loses members that left the tree (setsid, &).
        using var killGroup = spec.NewProcessGroup ? stop.Token.Register(() => KillGroup(task.ProcessId)) : default;
        var exitCode = 0;
        try
        {
            exitCode = (await task).ExitCode;
            await exited!;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            await exited!;
        }
        catch (TimeoutException) when (stop.IsCancellationRequested)
        {
            // CliWrap gave up waiting for the killed child to exit; the group was killed all the same.
        }
        ct.ThrowIfCancellationRequested();
        var aborted = spec.Abort.IsCancellationRequested;
        var timedOut = stop.IsCancellationRequested && !aborted;
        return new ProcessResult(
            timedOut ? 124
                : aborted ? 137
                : exitCode,
            output.StandardOutput.ToString(),
            output.StandardError.ToString(),
            output.Combined.ToString(),
            timedOut,
            output.Combined.Truncated,
            started.Elapsed,
            output.Combined.Total
        )
        {
            OutputFileTruncated = output.FileTruncated,
            Aborted = aborted,
        };
    }

    private static async Task AfterExitAsync(Process process, bool group, CapturedOutput output)
    {
        var pid = process.Id;
        try
        {
            await process.WaitForExitAsync(CancellationToken.None);
            if (group)
                KillGroup(pid);
        }
        finally
        {
            output.StopReadingAfter(DrainGrace);
        }
    }

    /// <summary>The child's variables: CliWrap adds to (or, with null, removes from) the inherited environment.</summary>
    private static Dictionary<string, string?> Variables(ProcessSpec spec)
    {
        var variables = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (spec.Environment is { } exact)
        {
            foreach (var name in Environment.GetEnvironmentVariables().Keys.Cast<string>())
                variables[name] = null;
            foreach (var (name, value) in exact)
                variables[name] = value;
        }
        if (spec.EnvironmentOverrides is { } overrides)
            foreach (var (name, value) in overrides)
                variables[name] = value;
        return variables;
    }

    /// <summary>SIGKILL to every process in the group led by <paramref name="pid"/>; a detached grandchild dies too.</summary>
    public static void KillGroup(int pid)
    {
        if (pid > 1)
            _ = kill(-pid, 9);
    }

    /// <summary>
    /// Why not CliWrap alone: bubblewrap's --die-with-parent is PR_SET_PDEATHSIG, which fires when the *thread*
    /// that forked bwrap exits, and CliWrap forks on the calling thread; a thread-pool thread retiring
    /// mid-validation would SIGKILL a healthy command. Group-led commands start from this one lasting thread.
    /// </summary>
    private static class Spawner
    {
        private static readonly System.Collections.Concurrent.BlockingCollection<Action> Queue = [];

        static Spawner()
        {
            var thread = new Thread(() =>
            {
                foreach (var start in Queue.GetConsumingEnumerable())
                    start();
            })
            {
                IsBackground = true,
                Name = "factory-spawner",
            };
            thread.Start();
        }

        public static Task<CommandTask<CommandResult>> StartAsync(
            Command command,
            Action<Process> started,
            CancellationToken stop
        )
        {
            var done = new TaskCompletionSource<CommandTask<CommandResult>>(
                TaskCreationOptions.RunContinuationsAsynchronously
            );
            Queue.Add(() =>
            {
                try
                {
                    done.SetResult(command.ExecuteAsync(null, started, stop, CancellationToken.None));
                }
                catch (Exception e)
                {
                    done.SetException(e);
                }
            });
            return done.Task;
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
