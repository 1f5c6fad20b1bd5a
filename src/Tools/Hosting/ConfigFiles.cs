using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Settings;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Tools.Hosting;

/// <summary>
/// factory.yaml and lines.yaml, re-read when they change on disk (a human may edit them, or run
/// `factory line set`, while servers run). A broken file is refused with its problems, never half-used.
/// </summary>
public sealed class ConfigFiles(LedgerPaths paths)
{
    private (DateTime Stamp, LineCatalog Value)? lines;
    private (DateTime Stamp, FactorySettings Value)? settings;
    private readonly Lock gate = new();

    public LineCatalog Lines
    {
        get
        {
            lock (gate)
            {
                var stamp = Stamp(paths.LinesConfig);
                if (lines is { } cached && cached.Stamp == stamp)
                    return cached.Value;
                var value = LineCatalog.Load(paths.LinesConfig);
                lines = (stamp, value);
                return value;
            }
        }
    }

    /// <summary>The ledger folder factory.yaml and lines.yaml live in.</summary>
    public string Folder => paths.Folder;

    public FactorySettings Settings
    {
        get
        {
            lock (gate)
            {
                var stamp = Stamp(paths.FactoryConfig);
                if (settings is { } cached && cached.Stamp == stamp)
                    return cached.Value;
                var value = FactorySettings.Load(paths.FactoryConfig);
                settings = (stamp, value);
                return value;
            }
        }
    }

    private static DateTime Stamp(string path) =>
        File.Exists(path) ? File.GetLastWriteTimeUtc(path) : DateTime.MinValue;
}
