using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace FactoryMcp.Tools.Processes;

/// <summary>
/// Our small process runner over <see cref="Process"/> (CliWrap is not in our package source): argument
/// lists, an explicit environment, bounded output capture, a timeout that kills the whole process group.
/// </summary>
public static partial class ProcessRunner
{
    public static async Task<ProcessResult> RunAsync(ProcessSpec spec, CancellationToken ct = default)
    {
        var info = new ProcessStartInfo
        {
            FileName = spec.NewProcessGroup ? "setsid" : spec.FileName,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = spec.WorkingDirectory ?? Environment.CurrentDirectory,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        if (spec.NewProcessGroup)
            info.ArgumentList.Add(spec.FileName);
        foreach (var argument in spec.Arguments)
            info.ArgumentList.Add(argument);
        if (spec.Environment is { } exact)
        {
            info.Environment.Clear();
            foreach (var (key, value) in exact)
                info.Environment[key] = value;
        }
        if (spec.EnvironmentOverrides is { } overrides)
        {
            foreach (var (key, value) in overrides)
            {
                if (value is null)
                    info.Environment.Remove(key);
                else
                    info.Environment[key] = value;
            }
        }

        var stdout = new BoundedCapture(spec.CaptureBytes);
        var stderr = new BoundedCapture(spec.CaptureBytes);
        var combined = new BoundedCapture(spec.CaptureBytes);
        StreamWriter? file = spec.OutputFile is { } path ? new StreamWriter(path, append: false, Encoding.UTF8) : null;
        var fileLock = new object();
        void Sink(BoundedCapture own, string? line)
        {
            if (line is null)
                return;
            own.Append(line + "\n");
            combined.Append(line + "\n");
            if (file is not null)
                lock (fileLock)
                    file.WriteLine(line);
        }

        var started = Stopwatch.StartNew();
        using var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var outDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var errDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
                outDone.TrySetResult();
            else
                Sink(stdout, e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
                errDone.TrySetResult();
            else
                Sink(stderr, e.Data);
        };
        try
        {
            if (spec.NewProcessGroup)
                await Spawner.StartAsync(process);
            else
                process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            file?.Dispose();
            throw new InvalidOperationException(
                $"Could not start '{info.FileName}': {e.Message}. Is it installed and on PATH?",
                e
            );
        }
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            if (spec.StandardInput is { } input)
                await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The child exited without reading its input.
        }

        var timedOut = false;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(spec.Timeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            timedOut = !ct.IsCancellationRequested;
            Kill(process, spec.NewProcessGroup);
            await process.WaitForExitAsync(CancellationToken.None);
        }
        if (spec.NewProcessGroup)
            KillGroup(process.Id);
        // Output pipes close when the last holder exits; a surviving grandchild was killed above.
        await Task.WhenAny(
            Task.WhenAll(outDone.Task, errDone.Task),
            Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None)
        );
        if (file is not null)
        {
            lock (fileLock)
                file.Dispose();
        }
        ct.ThrowIfCancellationRequested();
        var exitCode = timedOut ? 124 : process.ExitCode;
        return new ProcessResult(
            exitCode,
            stdout.ToString(),
            stderr.ToString(),
            combined.ToString(),
            timedOut,
            combined.Truncated,
            started.Elapsed,
            combined.Total
        );
    }

    private static void Kill(Process process, bool group)
    {
        if (group)
            KillGroup(process.Id);
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { }
    }

    /// <summary>SIGKILL to every process in the group led by <paramref name="pid"/>; a detached grandchild dies too.</summary>
    public static void KillGroup(int pid)
    {
        if (pid > 1)
            _ = kill(-pid, 9);
    }

    /// <summary>
    /// Starts sandboxed commands from one thread that lives as long as the process. bubblewrap's
    /// --die-with-parent is PR_SET_PDEATHSIG, which fires when the *thread* that forked it exits; a
    /// thread-pool thread retiring mid-validation would otherwise SIGKILL a healthy command.
    /// </summary>
    private static class Spawner
    {
        private static readonly System.Collections.Concurrent.BlockingCollection<(
            Process Process,
            TaskCompletionSource Done
        )> Queue = [];

        static Spawner()
        {
            var thread = new Thread(() =>
            {
                foreach (var (process, done) in Queue.GetConsumingEnumerable())
                {
                    try
                    {
                        process.Start();
                        done.SetResult();
                    }
                    catch (Exception e)
                    {
                        done.SetException(e);
                    }
                }
            })
            {
                IsBackground = true,
                Name = "factory-spawner",
            };
            thread.Start();
        }

        public static Task StartAsync(Process process)
        {
            var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Queue.Add((process, done));
            return done.Task;
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int kill(int pid, int signal);
}
