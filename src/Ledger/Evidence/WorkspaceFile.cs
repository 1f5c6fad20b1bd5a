using System.Runtime.InteropServices;

namespace FactoryMcp.Ledger.Evidence;

/// <summary>
/// Reads a file an agent names as evidence, refusing anything outside its workspace: symlinks are
/// resolved first (realpath), and only regular files are read, so a FIFO or device cannot hang the server.
/// </summary>
public static partial class WorkspaceFile
{
    public static byte[] Read(string workspace, string file, long maxBytes)
    {
        if (string.IsNullOrWhiteSpace(file))
            throw new LedgerException("`file` is empty; give a path inside your workspace.");
        if (file.Contains('\0'))
            throw new LedgerException("`file` contains a NUL character.");
        var root =
            RealPath(workspace) ?? throw new LedgerException($"The run's workspace {workspace} no longer exists.");
        var candidate = Path.IsPathRooted(file) ? file : Path.Combine(root, file);
        var real =
            RealPath(candidate)
            ?? throw new LedgerException($"`file` {file} does not exist in your workspace {workspace}.");
        if (!IsInside(root, real))
            throw new LedgerException(
                $"`file` {file} resolves to {real}, outside your workspace {workspace}. Evidence files must live inside the workspace; copy what you need there."
            );
        if (!IsRegularFile(real))
            throw new LedgerException(
                $"`file` {file} is not a regular file; attach a regular file or pass the text as `content`."
            );
        var length = new FileInfo(real).Length;
        if (length > maxBytes)
            throw new LedgerException(
                $"`file` {file} is {length} bytes; the limit for one evidence file is {maxBytes}. Attach an excerpt, or compress the log."
            );
        return File.ReadAllBytes(real);
    }

    public static bool IsInside(string root, string path)
    {
        var r = root.TrimEnd('/') + "/";
        return path == root.TrimEnd('/') || path.StartsWith(r, StringComparison.Ordinal);
    }

    /// <summary>realpath(3): the canonical absolute path with every symlink resolved, or null if it does not exist.</summary>
    public static string? RealPath(string path)
    {
        var result = realpath(path, IntPtr.Zero);
        if (result == IntPtr.Zero)
            return null;
        try
        {
            return Marshal.PtrToStringUTF8(result);
        }
        finally
        {
            free(result);
        }
    }

    private static bool IsRegularFile(string path)
    {
        // struct statx is laid out the same on every architecture: stx_mode is a u16 at offset 28.
        var buffer = new byte[256];
        const int AtFdCwd = -100,
            AtSymlinkNoFollow = 0x100,
            StatxType = 0x1;
        if (statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) != 0)
            return false;
        var mode = BitConverter.ToUInt16(buffer, 28);
        return (mode & 0xF000) == 0x8000;
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr realpath(string path, IntPtr resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void free(IntPtr pointer);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx(int dirfd, string path, int flags, uint mask, byte[] buffer);
}
