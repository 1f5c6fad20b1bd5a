using System.Security.Cryptography;
using System.Text;
using Dapper;
using FactoryMcp.Ledger.Storage;
using Microsoft.Data.Sqlite;

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
            throw new LedgerException($"The audit key {paths.AuditKey} is missing, so the ledger's audit chain cannot be extended or verified. Restore the file from a backup; never create a new one for an existing ledger.");
        return Convert.FromHexString(File.ReadAllText(paths.AuditKey).Trim());
    }

    public string Sign(string previousHmac, string body)
    {
        var data = Encoding.UTF8.GetBytes(previousHmac + "\n" + body);
        return Convert.ToHexString(HMACSHA256.HashData(Key, data)).ToLowerInvariant();
    }

    internal sealed record Tail(long Seq, string Hmac);

    /// <summary>Appends one record inside the caller's write transaction.</summary>
    internal async Task<Tail> AppendAsync(SqliteConnection connection, SqliteTransaction transaction, AuditRecord record, CancellationToken ct)
    {
        const string lastSql = """
            SELECT seq AS Seq, hmac AS Hmac FROM audit ORDER BY seq DESC LIMIT 1
            """;
        var last = await connection.QuerySingleOrDefaultAsync<Tail>(new CommandDefinition(lastSql, transaction: transaction, cancellationToken: ct));
        var seq = (last?.Seq ?? 0) + 1;
        var previous = last?.Hmac ?? Genesis;
        var body = record.Body(seq);
        var hmac = Sign(previous, body);
        const string insertSql = """
            INSERT INTO audit (seq, at, actor, action, entity, entity_id, body, prev_hmac, hmac)
            VALUES (@seq, @at, @actor, @action, @entity, @entityId, @body, @previous, @hmac)
            """;
        await connection.ExecuteAsync(new CommandDefinition(insertSql, new
        {
            seq,
            at = Iso.Text(record.At),
            actor = record.Actor,
            action = record.Action,
            entity = record.Entity,
            entityId = record.EntityId,
            body,
            previous,
            hmac,
        }, transaction, cancellationToken: ct));
        return new Tail(seq, hmac);
    }

    /// <summary>
    /// Records the chain head outside the database after a commit. Several processes share one ledger,
    /// so the head only moves forward, under an exclusive lock on the head file.
    /// </summary>
    internal void PublishHead(Tail tail)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var stream = new FileStream(paths.AuditHead, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
                var current = ReadHead(stream);
                if (current is not null && current.Seq >= tail.Seq) return;
                var bytes = Encoding.ASCII.GetBytes($"{tail.Seq} {tail.Hmac}\n");
                // Overwrite in place, never truncate first: a process killed between a truncation and the
                // write would leave an empty head. The new head is never shorter than the old one.
                stream.Position = 0;
                stream.Write(bytes);
                stream.SetLength(bytes.Length);
                FlushData(stream);
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
    /// Makes the head durable before the write returns. On Linux fdatasync is enough (it flushes the bytes
    /// and the size needed to read them back, not the modification time) and spares a journal commit per
    /// write; SQLite syncs its WAL the same way.
    /// </summary>
    private static void FlushData(FileStream stream)
    {
        stream.Flush();
        if (!OperatingSystem.IsLinux())
        {
            stream.Flush(flushToDisk: true);
            return;
        }
        var handle = stream.SafeFileHandle;
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (FileDataSync((int)handle.DangerousGetHandle()) != 0)
                throw new IOException($"fdatasync of the audit head failed (errno {System.Runtime.InteropServices.Marshal.GetLastPInvokeError()}).");
        }
        finally
        {
            if (added) handle.DangerousRelease();
        }
    }

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int FileDataSync(int fd);

    internal Tail? ReadHead()
    {
        if (!File.Exists(paths.AuditHead)) return null;
        using var stream = new FileStream(paths.AuditHead, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        return ReadHead(stream);
    }

    private static Tail? ReadHead(FileStream stream)
    {
        stream.Position = 0;
        using var reader = new StreamReader(stream, Encoding.ASCII, leaveOpen: true);
        var parts = reader.ReadToEnd().Trim().Split(' ');
        return parts.Length == 2 && long.TryParse(parts[0], out var seq) ? new Tail(seq, parts[1]) : null;
    }

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
