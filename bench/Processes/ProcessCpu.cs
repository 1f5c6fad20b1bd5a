using System.Globalization;

namespace FactoryMcp.Bench.Processes;

/// <summary>
/// CPU time a process has used so far (user + system, from /proc/PID/stat), in milliseconds. On a shared machine
/// wall-clock rates follow other tenants' load; CPU spent per call follows the code.
/// </summary>
internal static class ProcessCpu
{
    public static double Milliseconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        // The command name (field 2) may hold spaces; the fields after its closing parenthesis are fixed.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks =
            long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return ticks * 1000.0 / TicksPerSecond;
    }

    /// <summary>USER_HZ: 100 on every Linux this runs on (sysconf(_SC_CLK_TCK)).</summary>
    private const double TicksPerSecond = 100;
}
