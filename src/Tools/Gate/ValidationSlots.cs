namespace FactoryMcp.Tools.Gate;

/// <summary>
/// The host-wide cap on concurrent validation jobs: N lock files under the system temp folder, shared by
/// every server process of this user on this host (whatever ledger it serves). A job runs only while
/// holding one; a dead process's lock is released by the kernel. <c>FACTORY_VALIDATION_SLOTS</c> names
/// another folder (a test run uses its own, so it never competes with a developer's factory).
/// </summary>
public sealed class ValidationSlots(int capacity, string? folder = null)
{
    private readonly string folder = folder ?? DefaultFolder;

    /// <summary>The folder of the host-wide slots: <c>FACTORY_VALIDATION_SLOTS</c>, else one per user under the temp folder.</summary>
    public static string DefaultFolder =>
        Environment.GetEnvironmentVariable("FACTORY_VALIDATION_SLOTS") is { Length: > 0 } chosen
            ? chosen
            : Path.Combine(Path.GetTempPath(), $"factorymcp-{Environment.UserName}", "validation-slots");

    public int Capacity => capacity;

    /// <summary>A free slot, or null when all are taken.</summary>
    public IDisposable? TryAcquire()
    {
        Directory.CreateDirectory(folder);
        for (var i = 0; i < capacity; i++)
        {
            try
            {
                return new FileStream(
                    Path.Combine(folder, $"slot-{i}.lock"),
                    FileMode.OpenOrCreate,
                    FileAccess.ReadWrite,
                    FileShare.None
                );
            }
            catch (IOException)
            {
                // Taken by another job on this host.
            }
        }
        return null;
    }
}
