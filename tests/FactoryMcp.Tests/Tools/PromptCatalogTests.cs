using FactoryMcp.Ledger.Agents;
using FactoryMcp.Tools.Prompts;

namespace FactoryMcp.Tests.Tools;

public sealed class PromptCatalogTests
{
    private static readonly string[] Placeholders = ["agent", "role", "verifier_role", "workspace", "run_id"];

    public static TheoryData<string> PromptNames() => new(PromptCatalog.All.Select(p => p.Name));

    [Fact]
    public void EveryPromptFileInTheRepository_IsEmbedded()
    {
        var files = Directory
            .GetFiles(Path.Combine(Infrastructure.FactoryBinary.RepoRoot, "prompts"), "*.md")
            .Select(Path.GetFileNameWithoutExtension)
            .Order();
        Assert.Equal(files, PromptCatalog.All.Select(p => p.Name).Order());
        Assert.Equal(
            [
                "builder",
                "reviewer",
                "scout",
                "spec",
                "station",
                "verifier-devops",
                "verifier-qa",
                "verifier-secops",
                "writer",
            ],
            files
        );
    }

    [Theory]
    [MemberData(nameof(PromptNames))]
    public void Prompt_HasDescriptionValidRolesKnownPlaceholdersAndSubstance(string name)
    {
        var prompt = PromptCatalog.Find(name)!;
        Assert.False(string.IsNullOrWhiteSpace(prompt.Description));
        Assert.NotEmpty(prompt.Roles);
        Assert.All(prompt.Roles, r => Assert.Contains(r, Roles.All));
        foreach (
            System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(
                prompt.Body,
                @"\{\{(\w+)\}\}"
            )
        )
            Assert.Contains(m.Groups[1].Value, Placeholders);
        Assert.True(prompt.Body.Length > 400, $"{name} is too thin to guide an agent");
        if (prompt.VerifierRole is { } role)
        {
            Assert.Equal($"verifier-{role}", name);
            Assert.Equal([Roles.Verifier], prompt.Roles);
            Assert.Contains("only the artifact", prompt.Body);
            Assert.Contains("approve", prompt.Body);
            Assert.Contains("needs_human", prompt.Body);
        }
    }

    [Fact]
    public void Verifiers_SeeOnlyTheirOwnMandate_BuildersAndHumansNoVerifierPrompt()
    {
        Assert.Equal(["verifier-qa"], PromptCatalog.ForRole(Roles.Verifier, "qa").Select(p => p.Name));
        Assert.DoesNotContain(
            PromptCatalog.ForRole(Roles.Agent),
            p => p.Name.StartsWith("verifier", StringComparison.Ordinal)
        );
        Assert.Equal(["reviewer"], PromptCatalog.ForRole(Roles.Human).Select(p => p.Name));
        Assert.Contains(PromptCatalog.ForRole(Roles.Agent), p => p.Name == "writer");
    }
}
