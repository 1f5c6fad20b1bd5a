using System.Runtime.CompilerServices;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// The test process's own environment, fixed before any test runs: none of the developer's
/// <c>FACTORY_*</c> variables (a shell that serves a real factory must not steer the suite),
/// <c>FACTORY_ENV=test</c> (so only test ledgers can be created), and validation slots of this run's
/// own (so the suite never waits on, or takes, a slot of a developer's factory or another run).
/// Child processes get the same through <see cref="FactoryBinary.CleanEnvironment"/>.
/// </summary>
internal static class TestEnvironment
{
    /// <summary>This test run's validation slot folder, shared by the in-process tests and every child server.</summary>
    public static string SlotsFolder { get; } =
        Path.Combine(Path.GetTempPath(), "factory-tests", $"slots-{Environment.ProcessId}-{Guid.NewGuid():N}"[..28]);

    [ModuleInitializer]
    internal static void Prepare()
    {
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
            if (((string)entry.Key).StartsWith("FACTORY_", StringComparison.Ordinal))
                Environment.SetEnvironmentVariable((string)entry.Key, null);
        Environment.SetEnvironmentVariable("FACTORY_ENV", "test");
        Environment.SetEnvironmentVariable("FACTORY_VALIDATION_SLOTS", SlotsFolder);
    }
}
