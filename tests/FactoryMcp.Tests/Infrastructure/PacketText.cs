namespace FactoryMcp.Tests.Infrastructure;

/// <summary>Packets for tests.</summary>
public static class PacketText
{
    public static string Simple(
        string title = "Fix the greeting",
        string line = "bugfix",
        string scope = "src/",
        string validation = "test -f src/app.txt",
        string extraFrontMatter = "",
        string extraSections = ""
    ) =>
        $"""
            ---
            line: {line}
            priority: 1
            {extraFrontMatter}
            ---
            # {title}

            ## Intent
            The greeting should say hello world.

            ## Scope
            - {scope}

            ## Non-Goals
            - tests/legacy/

            ## Validation
            - `{validation}`

            ## Evidence Required
            - plan
            - diff
            {extraSections}
            """;
}
