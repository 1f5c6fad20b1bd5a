namespace FactoryMcp.Ledger.Storage;

/// <summary>
/// Every location the factory writes, derived from the ledger file alone, so a custom ledger never
/// writes a byte anywhere else. The runs folder is a sibling of the ledger folder so that an agent
/// confined to its workspace cannot reach the ledger. A PostgreSQL ledger has a state folder instead of a
/// file's folder: the audit key and head, mirrors, drafts and workspaces of this process's host.
/// </summary>
public sealed class LedgerPaths
{
    /// <summary>A ledger in PostgreSQL whose per-host state lives in <paramref name="stateFolder"/>.</summary>
    public LedgerPaths(PostgreSql.PostgresLocation location, string stateFolder)
        : this(Path.Combine(stateFolder, "ledger.db"))
    {
        PostgreSql = location;
        LedgerFile = location.Url;
    }

    public LedgerPaths(string ledgerFile)
    {
        LedgerFile = Path.GetFullPath(ledgerFile);
        Folder = Path.GetDirectoryName(LedgerFile)!;
        var parent = Path.GetDirectoryName(Folder) ?? Folder;
        RunsFolder = Path.Combine(parent, Path.GetFileName(Folder) + "-runs");
    }

    /// <summary>Where the ledger is: the SQLite file, or the PostgreSQL URL (which never holds a password).</summary>
    public string LedgerFile { get; }

    /// <summary>The PostgreSQL database, or null for a SQLite file.</summary>
    public PostgreSql.PostgresLocation? PostgreSql { get; }

    public LedgerEngine Engine => PostgreSql is null ? LedgerEngine.Sqlite : LedgerEngine.PostgreSql;
    public string Folder { get; }
    public string RunsFolder { get; }

    /// <summary>The directory relative repositories resolve against: the one that holds the ledger folder.</summary>
    public string ProjectRoot => Path.GetDirectoryName(Folder) ?? Folder;

    public string Blobs => Path.Combine(Folder, "blobs");
    public string Drafts => Path.Combine(Folder, "drafts");
    public string Exports => Path.Combine(Folder, "exports");
    public string Mirrors => Path.Combine(Folder, "mirrors");
    public string Jobs => Path.Combine(Folder, "jobs");
    public string AuditKey => Path.Combine(Folder, "audit.key");
    public string AuditHead => Path.Combine(Folder, "audit.head");

    /// <summary>The default ECDSA P-256 key attestations are signed with (factory.yaml <c>attestation_key</c> moves it).</summary>
    public string AttestationKey => Path.Combine(Folder, "attestation.key");
    public string FactoryConfig => Path.Combine(Folder, "factory.yaml");
    public string LinesConfig => Path.Combine(Folder, "lines.yaml");

    public string Workspace(long runId) =>
        Path.Combine(RunsFolder, runId.ToString(System.Globalization.CultureInfo.InvariantCulture));
}
