using System.Globalization;
using FactoryMcp.ChildProcesses;

namespace FactoryMcp.Bench.Fleet;

/// <summary>One `factory worker` process: its fleet id (the jobs' owner) and its CPU time.</summary>
internal sealed class FleetWorker(ChildProcess process, string id) : IAsyncDisposable
{
    /// <summary>Clock ticks per second of /proc/PID/stat (USER_HZ, 100 on Linux).</summary>
    private const double TicksPerSecond = 100;

    public string Id { get; } = id;
    public IReadOnlyList<string> Stderr => process.Stderr;

    /// <summary>
    /// utime + stime + cutime + cstime: the worker's own CPU and that of every child it has waited for (git, bwrap
    /// and the command under it, as each reaps its own), so a job's commands count once they have exited.
    /// </summary>
    public double CpuSeconds()
    {
        var stat = File.ReadAllText($"/proc/{process.Id}/stat");
        // Fields after the command name (which may hold spaces): state is field 3, utime 14 … cstime 17.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return fields[11..15].Sum(f => long.Parse(f, CultureInfo.InvariantCulture)) / TicksPerSecond;
    }

    public Task<int> KillAsync() => process.KillAsync();

    private bool disposed;

    /// <summary>SIGTERM (an idle worker stops at once), else SIGKILL after 40 s.</summary>
    public async ValueTask DisposeAsync()
    {
        if (disposed)
            return;
        disposed = true;
        try
        {
            await process.TerminateAsync(TimeSpan.FromSeconds(40));
        }
        catch (TimeoutException)
        {
            await process.KillAsync();
        }
        await process.DisposeAsync();
    }
}
