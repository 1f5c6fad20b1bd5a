using System.Globalization;

namespace FactoryMcp.Bench.Processes;

/// <summary>VmRSS and VmHWM (peak) from /proc, summed over a process and its descendants, in MiB.</summary>
internal sealed record ProcessMemory(double RssMiB, double PeakMiB)
{
    public static ProcessMemory OfTree(int pid)
    {
        double rss = 0,
            peak = 0;
        foreach (var id in Tree(pid))
        {
            var (r, p) = Read(id);
            rss += r;
            peak += p;
        }
        return new ProcessMemory(rss, peak);
    }

    private static IEnumerable<int> Tree(int pid)
    {
        yield return pid;
        foreach (var child in Children(pid))
        foreach (var id in Tree(child))
            yield return id;
    }

    private static IEnumerable<int> Children(int pid)
    {
        var tasks = $"/proc/{pid}/task";
        if (!Directory.Exists(tasks))
            return [];
        var children = new List<int>();
        foreach (var task in Directory.EnumerateDirectories(tasks))
        {
            try
            {
                foreach (
                    var part in File.ReadAllText(Path.Combine(task, "children"))
                        .Split(' ', StringSplitOptions.RemoveEmptyEntries)
                )
                    children.Add(int.Parse(part, CultureInfo.InvariantCulture));
            }
            catch (IOException) { }
        }
        return children;
    }

    private static (double Rss, double Peak) Read(int pid)
    {
        double rss = 0,
            peak = 0;
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                    rss = KiB(line) / 1024;
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    peak = KiB(line) / 1024;
            }
        }
        catch (IOException) { }
        return (rss, peak);
    }

    private static double KiB(string line) =>
        double.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
}
