namespace FactoryMcp.Tools.Git;

/// <summary>
/// Fresh, throwaway checkouts for validation: a shallow fetch of one commit from the server's mirror
/// into an empty repository, so validation never runs in (or trusts) the agent's workspace.
/// </summary>
public static class Checkouts
{
    public static async Task CreateAsync(string mirror, string sha, string path, CancellationToken ct = default)
    {
        if (Directory.Exists(path))
            Directory.Delete(path, recursive: true);
        await GitRunner.OutputAsync(["init", "--quiet", "--template=", path], ct: ct);
        var here = new GitRunner.Options { WorkingDirectory = path };
        await GitRunner.OutputAsync(
            ["fetch", "--quiet", "--depth=1", "--no-tags", "--no-recurse-submodules", "file://" + mirror, sha],
            here,
            ct
        );
        await GitRunner.OutputAsync(["checkout", "--quiet", "--detach", "FETCH_HEAD"], here, ct);
    }

    /// <summary>
    /// A read-only tree of <paramref name="sha"/> with no .git: a verifier sees the artifact, not the
    /// builder's commit messages or history.
    /// </summary>
    public static async Task CreateReadOnlyTreeAsync(
        string mirror,
        string sha,
        string path,
        CancellationToken ct = default
    )
    {
        if (Directory.Exists(path))
            Delete(path);
        Directory.CreateDirectory(path);
        var tar = await GitRunner.RunBytesAsync(
            ["archive", "--format=tar", sha],
            new GitRunner.Options { GitDir = mirror },
            ct
        );
        using (var stream = new MemoryStream(tar))
            await System.Formats.Tar.TarFile.ExtractToDirectoryAsync(stream, path, overwriteFiles: true, ct);
        foreach (var file in Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories))
        {
            if (new FileInfo(file).LinkTarget is null)
                File.SetUnixFileMode(
                    file,
                    File.GetUnixFileMode(file)
                        & ~(UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)
                );
        }
        foreach (var dir in Directory.EnumerateDirectories(path, "*", SearchOption.AllDirectories).Append(path))
            File.SetUnixFileMode(
                dir,
                UnixFileMode.UserRead
                    | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead
                    | UnixFileMode.GroupExecute
                    | UnixFileMode.OtherRead
                    | UnixFileMode.OtherExecute
            );
    }

    /// <summary>Lays files from <paramref name="sha"/> over a checkout (for the base run of a Reproduction with the change's tests).</summary>
    public static async Task OverlayAsync(
        string mirror,
        string sha,
        string checkout,
        IEnumerable<string> paths,
        CancellationToken ct = default
    )
    {
        var fromMirror = new GitRunner.Options { GitDir = mirror };
        foreach (var relative in paths)
        {
            var target = Path.GetFullPath(Path.Combine(checkout, relative));
            if (!target.StartsWith(checkout.TrimEnd('/') + "/", StringComparison.Ordinal))
                continue;
            var content = await GitRunner.RunBytesAsync(["cat-file", "blob", $"{sha}:{relative}"], fromMirror, ct);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            if (File.Exists(target) || new FileInfo(target).LinkTarget is not null)
                File.Delete(target);
            await File.WriteAllBytesAsync(target, content, ct);
        }
    }

    public static void Delete(string path)
    {
        try
        {
            if (Directory.Exists(path))
                Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is UnauthorizedAccessException or IOException)
        {
            // Read-only trees (verifier checkouts, or files a command protected): make them writable and retry once.
            foreach (var dir in Directory.EnumerateDirectories(path, "*", SearchOption.AllDirectories).Append(path))
                File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            Directory.Delete(path, recursive: true);
        }
    }
}
