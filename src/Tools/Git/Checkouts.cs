namespace FactoryMcp.Tools.Git;

/// <summary>
/// Fresh, throwaway checkouts for validation: a shallow fetch of one commit from the server's mirror
/// into an empty repository, so validation never runs in (or trusts) the agent's workspace.
/// </summary>
public static class Checkouts
{
    public static async Task CreateAsync(string mirror, string sha, string path, CancellationToken ct = default)
    {
        if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        await GitRunner.OutputAsync(["init", "--quiet", "--template=", path], ct: ct);
        var here = new GitRunner.Options { WorkingDirectory = path };
        await GitRunner.OutputAsync(["fetch", "--quiet", "--depth=1", "--no-tags", "--no-recurse-submodules", "file://" + mirror, sha], here, ct);
        await GitRunner.OutputAsync(["checkout", "--quiet", "--detach", "FETCH_HEAD"], here, ct);
    }

    /// <summary>Lays files from <paramref name="sha"/> over a checkout (for the base run of a Reproduction with the change's tests).</summary>
    public static async Task OverlayAsync(string mirror, string sha, string checkout, IEnumerable<string> paths, CancellationToken ct = default)
    {
        var fromMirror = new GitRunner.Options { GitDir = mirror };
        foreach (var relative in paths)
        {
            var target = Path.GetFullPath(Path.Combine(checkout, relative));
            if (!target.StartsWith(checkout.TrimEnd('/') + "/", StringComparison.Ordinal)) continue;
            var content = await GitRunner.RunBytesAsync(["cat-file", "blob", $"{sha}:{relative}"], fromMirror, ct);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (File.Exists(target) || new FileInfo(target).LinkTarget is not null) File.Delete(target);
            await File.WriteAllBytesAsync(target, content, ct);
        }
    }

    public static void Delete(string path)
    {
        try
        {
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
        }
        catch (UnauthorizedAccessException)
        {
            // A command may leave read-only files behind; make them writable and retry once.
            foreach (var entry in Directory.EnumerateFileSystemEntries(path, "*", SearchOption.AllDirectories))
                File.SetAttributes(entry, FileAttributes.Normal);
            Directory.Delete(path, recursive: true);
        }
    }
}
