namespace FactoryMcp.Ledger.Storage;

/// <summary>Blobs kept in the ledger's database (PostgreSQL) rather than in files beside it.</summary>
internal interface IDatabaseBlobs
{
    bool Exists(string sha);

    Task PutAsync(string sha, Stream content, long length, CancellationToken ct);

    /// <summary>Copies the blob to <paramref name="destination"/>; false when there is none.</summary>
    Task<bool> CopyToAsync(string sha, Stream destination, CancellationToken ct);
}
