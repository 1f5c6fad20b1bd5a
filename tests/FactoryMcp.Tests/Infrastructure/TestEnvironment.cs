using System.Runtime.CompilerServices;

namespace FactoryMcp.Tests.Infrastructure;

/// <summary>The suite is a test process: it can create only test ledgers (LedgerDatabase.Create refuses live ones under FACTORY_ENV=test).</summary>
internal static class TestEnvironment
{
    [ModuleInitializer]
    internal static void MarkAsTest() => Environment.SetEnvironmentVariable("FACTORY_ENV", "test");
}
