namespace FactoryMcp.Tests.Infrastructure;

/// <summary>
/// The scripted agent session (tests/FactoryMcp.ScriptedAgent), built with the test project: what
/// `factory drain` runs in place of claude -p, codex exec or gemini -p.
/// </summary>
public static class ScriptedAgent
{
    public static string Path { get; } = Find();

    private static string Find()
    {
        // Same configuration folder as this test assembly (for example debug_linux-x64).
        var configuration = System.IO.Path.GetFileName(AppContext.BaseDirectory.TrimEnd('/'));
        var path = System.IO.Path.Combine(
            FactoryBinary.RepoRoot,
            "artifacts",
            "bin",
            "FactoryMcp.ScriptedAgent",
            configuration,
            "FactoryMcp.ScriptedAgent"
        );
        return File.Exists(path)
            ? path
            : throw new InvalidOperationException(
                $"{path} is missing: build the test project (it builds the scripted agent) first."
            );
    }
}
