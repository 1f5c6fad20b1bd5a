using System.Security.Cryptography;
using FactoryMcp.Ledger;

namespace FactoryMcp.Tools.Attestation;

/// <summary>
/// The factory's signing key: ECDSA P-256, a PKCS#8 PEM file outside the ledger (default <c>attestation.key</c> in the
/// state folder, <c>attestation_key</c> in factory.yaml to move it), created on first use with mode 0600. Its id is the
/// sha256 of its public key (SubjectPublicKeyInfo DER), in hex.
/// </summary>
public sealed class AttestationKey : IDisposable
{
    private const string P256Oid = "1.2.840.10045.3.1.7";

    private AttestationKey(ECDsa key, string path)
    {
        Key = key;
        Path = path;
        KeyId = KeyIdOf(key);
    }

    public ECDsa Key { get; }
    public string Path { get; }
    public string KeyId { get; }

    /// <summary>The public key as PEM (SubjectPublicKeyInfo), what `openssl dgst -verify` and downstream verifiers take.</summary>
    public string PublicPem => Key.ExportSubjectPublicKeyInfoPem();

    public static string KeyIdOf(ECDsa key) =>
        Convert.ToHexString(SHA256.HashData(key.ExportSubjectPublicKeyInfo())).ToLowerInvariant();

    /// <summary>Loads the key, creating it first when the file does not exist (two processes racing keep one key).</summary>
    public static AttestationKey LoadOrCreate(string path)
    {
        if (!File.Exists(path))
            Create(path);
        return Load(path);
    }

    public static AttestationKey Load(string path)
    {
        if (!File.Exists(path))
            throw new LedgerException(
                $"The attestation key {path} does not exist. It is created when the first PR_READY is accepted; restore it from a backup if attestations were signed with it."
            );
        if (
            !OperatingSystem.IsWindows()
            && (
                File.GetUnixFileMode(path)
                & (UnixFileMode.GroupRead | UnixFileMode.OtherRead | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)
            ) != 0
        )
            throw new LedgerException(
                $"The attestation key {path} is readable or writable by others; run `chmod 600 {path}` (nothing was signed)."
            );
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(File.ReadAllText(path));
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new LedgerException(
                $"The attestation key {path} is not a PEM ECDSA private key ({e.Message}); restore it or point attestation_key at the right file."
            );
        }
        if (key.ExportParameters(false).Curve.Oid?.Value != P256Oid)
        {
            key.Dispose();
            throw new LedgerException(
                $"The attestation key {path} is not on the P-256 curve; the factory signs with ECDSA P-256."
            );
        }
        return new AttestationKey(key, path);
    }

    /// <summary>Reads a public key PEM (SubjectPublicKeyInfo) as exported by `factory attest public-key`.</summary>
    public static ECDsa ImportPublic(string pem)
    {
        var key = ECDsa.Create();
        try
        {
            key.ImportFromPem(pem);
            return key;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            key.Dispose();
            throw new LedgerException($"That is not a PEM ECDSA public key ({e.Message}).");
        }
    }

    private static void Create(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var temp = path + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(temp, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(key.ExportPkcs8PrivateKeyPem());
            writer.WriteLine();
            writer.Flush();
            stream.Flush(flushToDisk: true);
        }
        try
        {
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temp); // another process created it first: use theirs
        }
    }

    public void Dispose() => Key.Dispose();
}
