using System.Globalization;

namespace FactoryMcp.Bench;

/// <summary>Options every subcommand takes: how long each measurement runs, and where its ledgers live (the disk being measured).</summary>
internal sealed record BenchOptions(TimeSpan Duration, string Directory)
{
    public static BenchOptions Parse(string[] args)
    {
        var seconds = 3.0;
        var directory = Path.Combine(Path.GetTempPath(), "factory-bench");
        for (var i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--seconds" when i + 1 < args.Length && double.TryParse(args[i + 1], NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0:
                    seconds = s;
                    i++;
                    break;
                case "--dir" when i + 1 < args.Length:
                    directory = Path.GetFullPath(args[++i]);
                    break;
                default:
                    throw new ArgumentException($"Unknown or incomplete option '{args[i]}'. Options: --seconds N, --dir PATH.");
            }
        }
        System.IO.Directory.CreateDirectory(directory);
        return new BenchOptions(TimeSpan.FromSeconds(seconds), directory);
    }
}
