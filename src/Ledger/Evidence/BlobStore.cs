using System.Security.Cryptography;
using FactoryMcp.Ledger.Storage;
using FactoryMcp.Ledger.Storage.PostgreSql;

namespace FactoryMcp.Ledger.Evidence;

/// <summary>
/// Content-addressed blobs (sha256): files beside a SQLite ledger, rows of the database for a PostgreSQL one
/// (so replicas on several hosts share them). Writes are atomic and idempotent; streams never hold a whole blob.
/// </summary>
public sealed class BlobStore(LedgerPaths paths)
{
    private readonly IDatabaseBlobs? database = paths.PostgreSql is { } location ? InDatabase(location) : null;

    // Through an interface and this guard, so that the agent build's trimming drops PostgreSQL's blobs.
    private static IDatabaseBlobs InDatabase(PostgresLocation location)
    {
        if (!FactoryBuild.Full)
            throw FactoryBuild.Refused("A PostgreSQL ledger");
        return new PostgresBlobs(location);
    }

    public static string Sha256(ReadOnlySpan<byte> bytes) =>
        Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    public static void RequireId(string sha)
    {
        if (sha.Length != 64 || !sha.All(char.IsAsciiHexDigitLower))
            throw new LedgerException($"'{sha}' is not a blob id (64 lower-case hex digits).");
    }

    public string PathOf(string sha)
    {
        RequireId(sha);
        if (database is not null)
            throw new InvalidOperationException("A PostgreSQL ledger keeps its blobs in the database, not in files.");
        return Path.Combine(paths.Blobs, sha[..2], sha);
    }

    /// <summary>Stores bytes and returns their sha256. Call before the transaction that refers to the blob.</summary>
    public string Put(ReadOnlySpan<byte> bytes)
    {
        var sha = Sha256(bytes);
        if (database is not null)
        {
            using var stream = new MemoryStream(bytes.ToArray(), writable: false);
            database.PutAsync(sha, stream, bytes.Length, CancellationToken.None).GetAwaiter().GetResult();
            return sha;
        }
        var path = PathOf(sha);
        if (File.Exists(path))
            return sha;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
        {
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        return sha;
    }

    /// <summary>
    /// Stores a stream of any length and returns its sha256. The content is spooled to a private temp file
    /// while it is hashed (its id is its hash, known only at the end), then moved or streamed in chunks.
    /// </summary>
    public async Task<string> PutAsync(Stream content, CancellationToken ct = default)
    {
        Directory.CreateDirectory(paths.Folder);
        var temp = Path.Combine(paths.Folder, $"blob-{Guid.NewGuid():N}.tmp");
        try
        {
            string sha;
            long length;
            await using (var spool = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256))
            {
                var buffer = new byte[81920];
                int read;
                while ((read = await content.ReadAsync(buffer, ct)) > 0)
                {
                    hash.AppendData(buffer, 0, read);
                    await spool.WriteAsync(buffer.AsMemory(0, read), ct);
                }
                await spool.FlushAsync(ct);
                spool.Flush(flushToDisk: true);
                sha = Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
                length = spool.Length;
            }
            if (database is not null)
            {
                await using var source = File.OpenRead(temp);
                await database.PutAsync(sha, source, length, ct);
                return sha;
            }
            var path = PathOf(sha);
            if (!File.Exists(path))
            {
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                File.Move(temp, path, overwrite: true);
            }
            return sha;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    /// <summary>Stores a file's bytes (streamed, never whole in memory) and returns their sha256; the file stays.</summary>
    public async Task<string> PutFileAsync(string file, CancellationToken ct = default)
    {
        await using var source = new FileStream(
            file,
            FileMode.Open,
            FileAccess.Read,
            FileShare.Read,
            1 << 16,
            FileOptions.Asynchronous | FileOptions.SequentialScan
        );
        return await PutAsync(source, ct);
    }

    public bool Exists(string sha)
    {
        if (database is null)
            return File.Exists(PathOf(sha));
        RequireId(sha);
        return database.Exists(sha);
    }

    public byte[] Read(string sha)
    {
        using var buffer = new MemoryStream();
        CopyToAsync(sha, buffer).GetAwaiter().GetResult();
        return buffer.ToArray();
    }

    /// <summary>Writes a blob to <paramref name="destination"/> a chunk at a time.</summary>
    public async Task CopyToAsync(string sha, Stream destination, CancellationToken ct = default)
    {
        RequireId(sha);
        if (database is not null)
        {
            if (!await database.CopyToAsync(sha, destination, ct))
                throw new LedgerException($"Blob {sha} is not in the blob store.");
            return;
        }
        var path = PathOf(sha);
        if (!File.Exists(path))
            throw new LedgerException($"Blob {sha} is not in the blob store.");
        await using var file = File.OpenRead(path);
        await file.CopyToAsync(destination, ct);
    }
}
