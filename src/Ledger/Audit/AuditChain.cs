using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Audit;

/// <summary>
/// The HMAC-SHA256 chain over audit records. The key lives outside the database (mode 0600) and so
/// does the chain head, so edits, deletions and truncation of the audit table are detected.
/// </summary>
public sealed partial class AuditChain(LedgerPaths paths)
{
    public const string Genesis = "genesis";

    private byte[]? key;

    /// <summary>Creates the key file; only ledger creation calls this.</summary>
    public static void CreateKey(LedgerPaths paths)
    {
        var bytes = RandomNumberGenerator.GetBytes(32);
        WritePrivate(paths.AuditKey, Convert.ToHexString(bytes).ToLowerInvariant() + "\n");
        WritePrivate(paths.AuditHead, $"0 {Genesis}\n");
    }

    private byte[] Key => key ??= LoadKey();

    private byte[] LoadKey()
    {
        if (!File.Exists(paths.AuditKey))
            throw new LedgerException(
                $"The audit key {paths.AuditKey} is missing, so the ledger's audit chain cannot be extended or verified. Restore the file from a backup; never create a new one for an existing ledger."
            );
        return Convert.FromHexString(File.ReadAllText(paths.AuditKey).Trim());
    }

    public string Sign(string previousHmac, string body)
    {
        var data = Encoding.UTF8.GetBytes(previousHmac + "\n" + body);
        return Convert.ToHexString(HMACSHA256.HashData(Key, data)).ToLowerInvariant();
    }

    internal sealed record Tail(long Seq, string Hmac);

    /// <summary>A record appended by the current write: enough to sign it again with the rows the write touched.</summary>
    internal sealed record Appended(AuditRecord Record, long Seq, string Previous, string Hmac)
    {
        public Tail Tail => new(Seq, Hmac);
    }

    /// <summary>
    /// Signs the write's last record again, now holding the digests of the rows the write touched. It is still the
    /// chain's tail (the write holds the ledger's write lock), so no record links to its old HMAC.
    /// </summary>
    internal async Task<Appended> ResignAsync(
        PreparedConnection connection,
        DbTransaction transaction,
        Appended last,
        AuditRecord record,
        CancellationToken ct
    )
    {
        var body = record.Body(last.Seq);
        var hmac = Sign(last.Previous, body);
        const string sql = """
            UPDATE audit SET body = @body, hmac = @hmac WHERE seq = @seq
            """;
        await connection
            .Bind(sql, transaction, ("body", body), ("hmac", hmac), ("seq", last.Seq))
            .ExecuteNonQueryAsync(ct);
        return last with { Record = record, Hmac = hmac };
    }

    /// <summary>Appends one record inside the caller's write transaction.</summary>
    internal async Task<Appended> AppendAsync(
        PreparedConnection connection,
        DbTransaction transaction,
        AuditRecord record,
        CancellationToken ct
    )
    {
        const string lastSql = """
            SELECT seq, hmac FROM audit ORDER BY seq DESC LIMIT 1
            """;
        long seq = 1;
        var previous = Genesis;
        await using (var reader = await connection.Bind(lastSql, transaction).ExecuteReaderAsync(ct))
            if (await reader.ReadAsync(ct))
            {
                seq = Convert.ToInt64(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture) + 1;
                previous = reader.GetString(1);
            }
        var body = record.Body(seq);
        var hmac = Sign(previous, body);
        const string insertSql = """
            INSERT INTO audit (seq, at, actor, action, entity, entity_id, body, prev_hmac, hmac)
            VALUES (@seq, @at, @actor, @action, @entity, @entityId, @body, @previous, @hmac)
            """;
        await connection
            .Bind(
                insertSql,
                transaction,
                ("seq", seq),
                ("at", Iso.Text(record.At)),
                ("actor", record.Actor),
                ("action", record.Action),
                ("entity", record.Entity),
                ("entityId", record.EntityId),
                ("body", body),
                ("previous", previous),
                ("hmac", hmac)
            )
            .ExecuteNonQueryAsync(ct);
        return new Appended(record, seq, previous, hmac);
    }

    /// <summary>
    /// How long a written head may wait in the page cache before it is synced to disk. A killed process
    /// loses nothing (the kernel keeps the write); a power loss can leave the head up to this long behind,
    /// which verification accepts like any lagging head. Syncs of the writes in between are coalesced, so a
    /// write costs one fsync (its commit), not two.
    /// </summary>
    public static readonly TimeSpan HeadSyncDelay = TimeSpan.FromMilliseconds(10);

    private int syncScheduled;

    /// <summary>
    /// Records the chain head outside the database after a commit. Several processes share one ledger,
    /// so the head only moves forward, under an exclusive lock on the head file. The head is in the file
    /// (the kernel's page cache) before the write returns, and on disk within <see cref="HeadSyncDelay"/>.
    /// </summary>
    internal void PublishHead(Tail tail)
    {
        Span<byte> old = stackalloc byte[HeadBytes];
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                // A handle, not a FileStream: one read and one write at offset 0, and the lock goes with the
                // close (four system calls fewer on every write).
                using var handle = File.OpenHandle(
                    paths.AuditHead,
                    FileMode.OpenOrCreate,
                    FileAccess.ReadWrite,
                    FileShare.None
                );
                var length = RandomAccess.Read(handle, old, 0);
                var current = ParseHead(Encoding.ASCII.GetString(old[..length]));
                if (current is not null && current.Seq >= tail.Seq)
                    return;
                var bytes = Encoding.ASCII.GetBytes($"{tail.Seq} {tail.Hmac}\n");
                // Overwrite in place, never truncate first: a process killed between a truncation and the
                // write would leave an empty head. The new head is never shorter than the old one; the file is
                // cut only when it holds more (a head of another form, or bytes appended to it).
                RandomAccess.Write(handle, bytes, 0);
                if (length > bytes.Length)
                    RandomAccess.SetLength(handle, bytes.Length);
                ScheduleSync();
                return;
            }
            catch (IOException) when (attempt < 200)
            {
                // Another process holds the head file for a moment.
                Thread.Sleep(2);
            }
            catch (IOException)
            {
                // The write is already committed: failing the caller now would invite a duplicate retry.
                // A head left behind is accepted by verification and moved on by the next write.
                return;
            }
        }
    }

    /// <summary>
    /// Syncs the head file once, <see cref="HeadSyncDelay"/> from now, for every head written until then.
    /// The flag is cleared before the sync, so a head written after it schedules the next one.
    /// </summary>
    private void ScheduleSync()
    {
        if (Interlocked.Exchange(ref syncScheduled, 1) == 1)
            return;
        HeadSync.Schedule(this);
    }

    /// <summary>The scheduled sync (on <see cref="HeadSync"/>'s thread): a head written from now on schedules the next.</summary>
    internal void SyncScheduledHead()
    {
        Volatile.Write(ref syncScheduled, 0);
        SyncHead();
    }

    /// <summary>
    /// Flushes the head file's data to disk now (fdatasync on Linux: the bytes and size, not the modification time);
    /// false when there is no head file to sync (a test's ledger, deleted).
    /// <para>
    /// On Linux through a descriptor of its own that takes no lock. Every commit's <see cref="PublishHead"/> takes
    /// the head file's exclusive lock for a moment; a shared lock held here for the length of an fdatasync made
    /// each commit that met it back off for 2 ms (one write in thirty over stdio, the slowest seventh of their
    /// time). fdatasync needs no lock: it flushes whatever the page cache holds, from any descriptor of the file.
    /// </para>
    /// </summary>
    internal bool SyncHead()
    {
        if (OperatingSystem.IsLinux())
        {
            var fd = OpenFile(paths.AuditHead, ReadOnly | CloseOnExec);
            if (fd < 0)
                return false;
            using var handle = new Microsoft.Win32.SafeHandles.SafeFileHandle(fd, ownsHandle: true);
            if (FileDataSync(fd) != 0)
                throw new IOException(
                    $"fdatasync of the audit head failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()})."
                );
            return true;
        }
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var stream = new FileStream(
                    paths.AuditHead,
                    FileMode.Open,
                    FileAccess.ReadWrite,
                    FileShare.ReadWrite | FileShare.Delete
                );
                stream.Flush(flushToDisk: true);
                return true;
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return false;
            }
            catch (IOException) when (attempt < 200)
            {
                // Another process holds the head file for a moment (it then schedules a sync of its own too).
                Thread.Sleep(2);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Nothing more to do here: the next head written schedules another sync.
                return false;
            }
        }
    }

    private const int ReadOnly = 0,
        CloseOnExec = 0x80000; // O_CLOEXEC: the same on every Linux architecture .NET runs on

    [System.Runtime.InteropServices.LibraryImport(
        "libc",
        EntryPoint = "open",
        SetLastError = true,
        StringMarshalling = System.Runtime.InteropServices.StringMarshalling.Utf8
    )]
    private static partial int OpenFile(string path, int flags);

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FileDataSync(int fd);

    internal Tail? ReadHead()
    {
        if (!File.Exists(paths.AuditHead))
            return null;
        using var stream = new FileStream(paths.AuditHead, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream, Encoding.ASCII);
        return ParseHead(reader.ReadToEnd());
    }

    private static Tail? ParseHead(string text)
    {
        var parts = text.Trim().Split(' ');
        return parts.Length == 2 && long.TryParse(parts[0], out var seq) ? new Tail(seq, parts[1]) : null;
    }

    /// <summary>Bytes of the head file read before a head is written: a head is about 85 (a 19-digit seq, 64 hex digits).</summary>
    private const int HeadBytes = 256;

    private static void WritePrivate(string path, string content)
    {
        var options = new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        using var stream = new FileStream(path, options);
        stream.Write(Encoding.ASCII.GetBytes(content));
        stream.Flush(flushToDisk: true);
    }
}
