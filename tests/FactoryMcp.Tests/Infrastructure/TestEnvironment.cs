using System.Runtime.CompilerServices;
using FactoryMcp.Ledger.Storage;

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

    /// <summary>
    /// The engine of every <see cref="TestFactory"/> that names none: SQLite, or PostgreSQL when the run was
    /// started with <c>FACTORY_TEST_ENGINE=postgresql</c> (README, "Tests"), to run every in-process suite there too.
    /// </summary>
    public static LedgerEngine DefaultEngine { get; private set; } = LedgerEngine.Sqlite;

    [ModuleInitializer]
    internal static void Prepare()
    {
        DefaultEngine = Environment.GetEnvironmentVariable("FACTORY_TEST_ENGINE")?.ToLowerInvariant() switch
        {
            null or "" or "sqlite" => LedgerEngine.Sqlite,
            "postgresql" or "postgres" => LedgerEngine.PostgreSql,
            var other => throw new InvalidOperationException(
                $"FACTORY_TEST_ENGINE={other} is not an engine: use sqlite or postgresql."
            ),
        };
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
            if (((string)entry.Key).StartsWith("FACTORY_", StringComparison.Ordinal))
                Environment.SetEnvironmentVariable((string)entry.Key, null);
        Environment.SetEnvironmentVariable("FACTORY_ENV", "test");
        Environment.SetEnvironmentVariable("FACTORY_VALIDATION_SLOTS", SlotsFolder);
    }
}
