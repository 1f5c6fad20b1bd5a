using FactoryMcp.Ledger.Packets;
using FactoryMcp.Tools.Prompts;

namespace FactoryMcp.Tests.Packets;

/// <summary>The one front-matter splitter that packets, prompts, signal templates and the dashboard share.</summary>
public sealed class FrontMatterTests
{
    [Fact]
    public void Split_SeparatesTheYamlTheFencedBlockAndTheBody()
    {
        var front = FrontMatter.Split("---\nline: bugfix\npriority: 2\n---\n# Title\n\nBody\n");
        Assert.NotNull(front);
        Assert.Equal("line: bugfix\npriority: 2", front.Yaml);
        Assert.Equal("---\nline: bugfix\npriority: 2\n---", front.Block);
        Assert.Equal("# Title\n\nBody\n", front.Body);
    }

    [Fact]
    public void Split_AcceptsTheYamlDocumentEndAsTheClosingFence()
    {
        var front = FrontMatter.Split("---\nline: docs\n...\nText");
        Assert.Equal("line: docs", front!.Yaml);
        Assert.Equal("Text", front.Body);
    }

    [Theory]
    [InlineData("# Title\n---\nline: x\n---\n")]
    [InlineData("---\nline: never closed\n# Title\n")]
    [InlineData("----\nline: x\n----\n")]
    [InlineData("")]
    public void Split_WithoutFrontMatterAtTheStart_IsNull(string markdown) => Assert.Null(FrontMatter.Split(markdown));

    [Fact]
    public void PromptParse_ReadsItsFrontMatterWithTheSharedSplitter_AndRefusesAFileWithout()
    {
        var prompt = PromptCatalog.Parse(
            "p",
            "---\r\ndescription: d\r\nroles: [agent]\r\n...\r\n\r\nHello {{agent}}\r\n"
        );
        Assert.Equal("d", prompt.Description);
        Assert.Equal(["agent"], prompt.Roles);
        Assert.Equal("Hello {{agent}}\n", prompt.Body);
        var e = Assert.Throws<InvalidDataException>(() => PromptCatalog.Parse("q", "---\ndescription: d\nno end"));
        Assert.Contains("Prompt q has no front matter", e.Message);
    }
}
