using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace FactoryMcp.Ledger.Evidence;

/// <summary>
/// Reads a file an agent names as evidence, without a window between a check and the read: the file is opened
/// beneath the workspace with <c>openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)</c>, so no <c>..</c> and no symlink
/// (in the last component or any folder on the way) is followed, and everything after (the type, the size, the
/// bytes) comes from that one descriptor. Where openat2 is missing (Linux before 5.6, or a seccomp filter), the file
/// is opened without following a final symlink and the descriptor's real path (/proc/self/fd) must lie inside the
/// workspace. Every refusal about the path reads the same, so it never tells whether a path outside exists.
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
        var relative = RelativeTo(file, workspace, root) ?? throw NotInside(file, workspace);
        using var handle = OpenBeneath(root, relative) ?? throw NotInside(file, workspace);
        var (mode, size) = Stat(handle);
        if ((mode & 0xF000) != 0x8000)
            throw new LedgerException(
                $"`file` {file} is not a regular file; attach a regular file or pass the text as `content`."
            );
        if (size > maxBytes)
            throw TooLarge(file, size, maxBytes);
        // The file may grow after fstat: read at most one byte past the limit, from the descriptor only.
        var buffer = new byte[(int)Math.Min(size, maxBytes) + 1];
        var read = 0;
        int n;
        while (read < buffer.Length && (n = RandomAccess.Read(handle, buffer.AsSpan(read), read)) > 0)
            read += n;
        if (read > maxBytes)
            throw TooLarge(file, read, maxBytes);
        return buffer[..read];
    }

    private static LedgerException NotInside(string file, string workspace) =>
        new(
            $"`file` {file} is not a regular file inside your workspace {workspace}. Give a path relative to the workspace; `..` out of it and symlinks are not followed, so copy what you need into the workspace."
        );

    private static LedgerException TooLarge(string file, long size, long maxBytes) =>
        new(
            $"`file` {file} is {size} bytes; the limit for one evidence file is {maxBytes}. Attach an excerpt, or compress the log."
        );

    /// <summary>The path relative to the workspace: as given, or an absolute path textually under the workspace.</summary>
    private static string? RelativeTo(string file, string workspace, string root)
    {
        if (!Path.IsPathRooted(file))
            return file;
        foreach (var prefix in new[] { root, Path.GetFullPath(workspace) })
        {
            var withSlash = prefix.TrimEnd('/') + "/";
            if (file.StartsWith(withSlash, StringComparison.Ordinal) && file.Length > withSlash.Length)
                return file[withSlash.Length..];
        }
        return null;
    }

    /// <summary>A read descriptor for <paramref name="relative"/> beneath <paramref name="root"/>, or null.</summary>
    private static SafeFileHandle? OpenBeneath(string root, string relative)
    {
        var directory = open(root, OpenFlags.Directory | OpenFlags.NoFollow | OpenFlags.CloseOnExec | OpenFlags.Path);
        if (directory < 0)
            return null;
        try
        {
            var how = new OpenHow
            {
                Flags = (ulong)(OpenFlags.NoFollow | OpenFlags.CloseOnExec | OpenFlags.NonBlock),
                Resolve = ResolveBeneath | ResolveNoSymlinks | ResolveNoMagicLinks,
            };
            var fd = (int)syscall(Openat2Syscall, directory, relative, ref how, (nuint)Marshal.SizeOf<OpenHow>());
            if (fd >= 0)
                return new SafeFileHandle(fd, ownsHandle: true);
            var errno = Marshal.GetLastPInvokeError();
            if (errno is not (ENOSYS or EPERM))
                return null;
        }
        finally
        {
            _ = close(directory);
        }
        return OpenThenVerify(root, relative);
    }

    /// <summary>The fallback: open without following a final link, then check where the descriptor really points.</summary>
    private static SafeFileHandle? OpenThenVerify(string root, string relative)
    {
        var fd = open(Path.Combine(root, relative), OpenFlags.NoFollow | OpenFlags.CloseOnExec | OpenFlags.NonBlock);
        if (fd < 0)
            return null;
        var handle = new SafeFileHandle(fd, ownsHandle: true);
        // As with openat2: the file must be exactly the path named beneath the root, no `..` out and no link on the way.
        var real = new FileInfo($"/proc/self/fd/{fd}").LinkTarget;
        if (
            real is not null
            && !relative.Split('/').Contains("..")
            && real == Path.GetFullPath(Path.Combine(root, relative))
        )
            return handle;
        handle.Dispose();
        return null;
    }

    private static (int Mode, long Size) Stat(SafeFileHandle handle)
    {
        // struct statx is laid out the same on every architecture: stx_mode is a u16 at offset 28, stx_size a u64 at 40.
        var buffer = new byte[256];
        const int AtEmptyPath = 0x1000;
        const uint StatxTypeAndSize = 0x1 | 0x200;
        if (statx((int)handle.DangerousGetHandle(), "", AtEmptyPath, StatxTypeAndSize, buffer) != 0)
            return (0, 0);
        return (BitConverter.ToUInt16(buffer, 28), (long)BitConverter.ToUInt64(buffer, 40));
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

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    private const long Openat2Syscall = 437; // the same number on every Linux architecture (the unified table)
    private const ulong ResolveNoMagicLinks = 0x02,
        ResolveNoSymlinks = 0x04,
        ResolveBeneath = 0x08;
    private const int ENOSYS = 38,
        EPERM = 1;

    /// <summary>open(2) flags; O_DIRECTORY and O_NOFOLLOW differ between x86-64 and the Arm architectures.</summary>
    private static class OpenFlags
    {
        private static readonly bool Arm =
            RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm;
        public static readonly int Directory = Arm ? 0x4000 : 0x10000;
        public static readonly int NoFollow = Arm ? 0x8000 : 0x20000;
        public const int NonBlock = 0x800;
        public const int CloseOnExec = 0x80000;
        public const int Path = 0x200000;
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr realpath(string path, IntPtr resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void free(IntPtr pointer);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int close(int fd);

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long syscall(long number, int dirfd, string path, ref OpenHow how, nuint size);

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int statx(int dirfd, string path, int flags, uint mask, byte[] buffer);
}
