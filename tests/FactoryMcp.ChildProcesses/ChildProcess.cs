using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using CliWrap;

namespace FactoryMcp.ChildProcesses;

/// <summary>
/// A long-running child (a server, a peer) started with CliWrap: its stderr kept line by line, its standard
/// streams handed out raw when the caller speaks to it (no copy in between, so latency figures carry none),
/// SIGTERM to stop it as a service manager would, SIGKILL to crash it, the whole tree killed on dispose.
/// </summary>
public sealed partial class ChildProcess : IAsyncDisposable
{
    private readonly List<string> stderr = [];
    private readonly List<(Regex Pattern, TaskCompletionSource<Match> Seen)> watches = [];
    private readonly TaskCompletionSource<Stream> stdin = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Stream> stdout = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource forceful = new();
    private readonly string name;
    private CommandTask<CommandResult> task = null!;

    private ChildProcess(string name) => this.name = name;

    public int Id => task.ProcessId;

    /// <summary>The exit code, once the process has exited and its pipes are released.</summary>
    public Task<int> Exited { get; private set; } = null!;

    public bool HasExited => Exited.IsCompleted;

    public IReadOnlyList<string> Stderr
    {
        get
        {
            lock (stderr)
                return stderr.ToList();
        }
    }

    /// <summary>The child's standard input (only when started with <c>interactive</c>).</summary>
    public Stream StandardInput =>
        stdin.Task.IsCompletedSuccessfully
            ? stdin.Task.Result
            : throw new InvalidOperationException($"{name} was not started interactive.");

    /// <summary>The child's standard output (only when started with <c>interactive</c>).</summary>
    public Stream StandardOutput =>
        stdout.Task.IsCompletedSuccessfully
            ? stdout.Task.Result
            : throw new InvalidOperationException($"{name} was not started interactive.");

    /// <summary>
    /// Starts <paramref name="fileName"/>. Environment values of null remove the variable. When
    /// <paramref name="interactive"/>, standard input and output stay open for the caller until dispose;
    /// otherwise input is empty and output is discarded. Returns once the process is running.
    /// </summary>
    public static async Task<ChildProcess> StartAsync(
        string fileName,
        IReadOnlyList<string> arguments,
        string? workingDirectory = null,
        IReadOnlyDictionary<string, string?>? environment = null,
        bool interactive = false
    )
    {
        var child = new ChildProcess(System.IO.Path.GetFileName(fileName));
        var command = Cli.Wrap(fileName)
            .WithArguments(arguments)
            .WithWorkingDirectory(workingDirectory ?? Environment.CurrentDirectory)
            .WithEnvironmentVariables(environment?.ToDictionary() ?? [])
            .WithStandardErrorPipe(PipeTarget.ToDelegate(child.OnStderr))
            .WithValidation(CommandResultValidation.None);
        command = interactive
            ? command
                .WithStandardInputPipe(PipeSource.Create(child.HoldInputAsync))
                .WithStandardOutputPipe(PipeTarget.Create(child.HoldOutputAsync))
            : command.WithStandardInputPipe(PipeSource.Null).WithStandardOutputPipe(PipeTarget.Null);
        child.task = command.ExecuteAsync(child.forceful.Token);
        child.Exited = child.ExitCodeAsync();
        if (interactive)
            await Task.WhenAll(child.stdin.Task, child.stdout.Task).WaitAsync(TimeSpan.FromSeconds(30));
        return child;
    }

    /// <summary>
    /// Waits for a stderr line matching <paramref name="pattern"/> (lines already seen count). Fails with the
    /// stderr so far when the process exits first or the time runs out.
    /// </summary>
    public async Task<Match> WaitForLineAsync(Regex pattern, TimeSpan timeout)
    {
        var seen = new TaskCompletionSource<Match>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (stderr)
        {
            if (stderr.Select(l => pattern.Match(l)).FirstOrDefault(m => m.Success) is { } already)
                return already;
            watches.Add((pattern, seen));
        }
        var first = await Task.WhenAny(seen.Task, Exited, Task.Delay(timeout));
        if (first == seen.Task)
            return await seen.Task;
        var why =
            first == Exited ? $"exited ({await Exited})" : $"printed nothing matching in {timeout.TotalSeconds:0} s";
        throw new InvalidOperationException(
            $"{name} {why} waiting for /{pattern}/; stderr:\n{string.Join('\n', Stderr.TakeLast(40))}"
        );
    }

    /// <summary>SIGTERM, as a service manager stops it; the exit code once it has drained and stopped.</summary>
    public async Task<int> TerminateAsync(TimeSpan timeout)
    {
        if (!HasExited)
            Signal(SigTerm);
        return await Exited.WaitAsync(timeout);
    }

    /// <summary>SIGKILL to this process only: no goodbye, as a crash.</summary>
    public async Task<int> KillAsync()
    {
        if (!HasExited)
            Signal(SigKill);
        released.TrySetResult();
        return await Exited;
    }

    /// <summary>Closes standard input (a stdio server's cue to exit).</summary>
    public void CloseStandardInput() => released.TrySetResult();

    public async ValueTask DisposeAsync()
    {
        released.TrySetResult();
        if (!HasExited)
        {
            if (await Task.WhenAny(Exited, Task.Delay(TimeSpan.FromSeconds(5))) != Exited)
                await forceful.CancelAsync(); // CliWrap kills the process and its descendants
            try
            {
                await Exited.WaitAsync(TimeSpan.FromSeconds(30));
            }
            catch (TimeoutException) { }
        }
        forceful.Dispose();
    }

    private async Task<int> ExitCodeAsync()
    {
        try
        {
            return (await task).ExitCode;
        }
        catch (OperationCanceledException)
        {
            return 137;
        }
    }

    /// <summary>
    /// Hands standard input to the caller and keeps it open until dispose. CliWrap cancels the input pipe
    /// once the process has exited; that releases standard output too, so the exit is reported.
    /// </summary>
    private async Task HoldInputAsync(Stream stream, CancellationToken ct)
    {
        stdin.TrySetResult(stream);
        try
        {
            await released.Task.WaitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            released.TrySetResult();
        }
    }

    /// <summary>Hands standard output to the caller and keeps it open until released.</summary>
    private async Task HoldOutputAsync(Stream stream, CancellationToken ct)
    {
        stdout.TrySetResult(stream);
        await released.Task.WaitAsync(ct);
    }

    private void OnStderr(string line)
    {
        lock (stderr)
        {
            stderr.Add(line);
            foreach (var watch in watches.ToList())
                if (watch.Pattern.Match(line) is { Success: true } m)
                {
                    watch.Seen.TrySetResult(m);
                    watches.Remove(watch);
                }
        }
    }

    private void Signal(int signal)
    {
        if (
            Kill(Id, signal) != 0
            && Marshal.GetLastPInvokeError() != 3 /* ESRCH: already gone */
        )
            throw new InvalidOperationException($"kill({Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    private const int SigKill = 9;
    private const int SigTerm = 15;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
