namespace FactoryMcp.Tools.Gate.Coverage;

/// <summary>
/// Turns a path a coverage report names into a repository-relative POSIX path. The sandbox mounts the checkout at its
/// own path, so an absolute path under the checkout is made relative to it; a relative one is tried against each
/// Cobertura <c>&lt;source&gt;</c> first, then the checkout's root; the first that names an existing file wins. A path
/// that leaves the checkout (a system library, a site-packages file) is kept as given: it matches no changed line.
/// </summary>
public sealed class PathMap(string checkout)
{
    private readonly string root = Path.GetFullPath(checkout).TrimEnd('/') + "/";

    public string ToRepository(string path, IReadOnlyList<string> sources)
    {
        var candidates = new List<string>();
        if (Path.IsPathRooted(path))
            candidates.Add(path);
        else
        {
            foreach (var source in sources.Where(s => s.Length > 0))
                candidates.Add(
                    Path.IsPathRooted(source) ? Path.Combine(source, path) : Path.Combine(root, source, path)
                );
            candidates.Add(Path.Combine(root, path));
        }
        string? firstInside = null;
        foreach (var candidate in candidates)
        {
            var full = Path.GetFullPath(candidate);
            if (!full.StartsWith(root, StringComparison.Ordinal))
                continue;
            var relative = full[root.Length..];
            firstInside ??= relative;
            if (File.Exists(full))
                return relative;
        }
        return firstInside ?? path;
    }
}
