namespace FactoryMcp.Tools.Gate;

/// <summary>
/// The host-wide cap on concurrent validation jobs: N lock files under the system temp folder, shared by
/// every server process of this user on this host (whatever ledger it serves). A job runs only while
/// holding one; a dead process's lock is released by the kernel.
/// </summary>
public sealed class ValidationSlots(int capacity, string? folder = null)
{
    private readonly string folder =
        folder ?? Path.Combine(Path.GetTempPath(), $"factorymcp-{Environment.UserName}", "validation-slots");

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
