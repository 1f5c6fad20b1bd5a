using System.Security.Cryptography;
using FactoryMcp.Ledger.Storage;

namespace FactoryMcp.Ledger.Evidence;

/// <summary>Content-addressed blobs (sha256) beside the ledger. Writes are atomic and idempotent.</summary>
public sealed class BlobStore(LedgerPaths paths)
{
    public static string Sha256(ReadOnlySpan<byte> bytes) =>
        Convert.ToHexString(SHA256.HashData(bytes)).ToLowerInvariant();

    public string PathOf(string sha)
    {
        if (sha.Length != 64 || !sha.All(char.IsAsciiHexDigitLower))
            throw new LedgerException($"'{sha}' is not a blob id (64 lower-case hex digits).");
        return Path.Combine(paths.Blobs, sha[..2], sha);
    }

    /// <summary>Stores bytes and returns their sha256. Call before the transaction that refers to the blob.</summary>
    public string Put(ReadOnlySpan<byte> bytes)
    {
        var sha = Sha256(bytes);
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
    /// Stores a file's bytes and returns their sha256, streaming: the file is hashed and copied in chunks, never
    /// held whole in memory. The file itself is left in place.
    /// </summary>
    public string PutFile(string file)
    {
        string sha;
        using (var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
            sha = Convert.ToHexString(SHA256.HashData(source)).ToLowerInvariant();
        var path = PathOf(sha);
        if (File.Exists(path))
            return sha;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var temp = path + "." + Guid.NewGuid().ToString("N") + ".tmp";
        using (var source = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
        using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
        {
            source.CopyTo(stream);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
        return sha;
    }

    public bool Exists(string sha) => File.Exists(PathOf(sha));

    public byte[] Read(string sha)
    {
        var path = PathOf(sha);
        if (!File.Exists(path))
            throw new LedgerException($"Blob {sha} is not in the blob store.");
        return File.ReadAllBytes(path);
    }
}
