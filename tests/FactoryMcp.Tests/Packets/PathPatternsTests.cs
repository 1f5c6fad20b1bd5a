using FactoryMcp.Ledger.Packets;

namespace FactoryMcp.Tests.Packets;

public sealed class PathPatternsTests
{
    [Theory]
    [InlineData("src/Invoice/", "src/Invoice/Totals.cs", true)]
    [InlineData("src/Invoice/", "src/Invoice/deep/x/Y.cs", true)]
    [InlineData("src/Invoice/", "src/InvoiceX/Totals.cs", false)]
    [InlineData("src/Invoice/", "lib/src/Invoice/Totals.cs", false)]
    [InlineData("src/Invoice", "src/Invoice", true)]
    [InlineData("Invoice/", "lib/Invoice/a.cs", true)]
    [InlineData("*.md", "docs/guide/readme.md", true)]
    [InlineData("*.md", "docs/guide/readme.mdx", false)]
    [InlineData("/README.md", "README.md", true)]
    [InlineData("/README.md", "docs/README.md", false)]
    [InlineData("docs/*.md", "docs/a.md", true)]
    [InlineData("docs/*.md", "docs/sub/a.md", false)]
    [InlineData("docs/**/*.md", "docs/sub/deeper/a.md", true)]
    [InlineData("docs/**/*.md", "docs/a.md", true)]
    [InlineData("**/tests/", "a/b/tests/x.cs", true)]
    [InlineData("**/tests/", "tests/x.cs", true)]
    [InlineData("src/**", "src/a/b.cs", true)]
    [InlineData("file?.txt", "file1.txt", true)]
    [InlineData("file?.txt", "file10.txt", false)]
    [InlineData("file[0-9].txt", "file7.txt", true)]
    [InlineData("file[!0-9].txt", "file7.txt", false)]
    [InlineData("Src/", "src/a.cs", false)]
    [InlineData("tests/", "tests", false)]
    public void Matches_FollowsGitignoreSemantics(string pattern, string path, bool expected) =>
        Assert.Equal(expected, new PathPatterns([pattern]).Matches(path));

    [Fact]
    public void Matches_NegationReincludesAFileButNotUnderAnExcludedDirectory()
    {
        var patterns = new PathPatterns(["*.log", "!keep.log", "build/", "!build/keep.txt"]);
        Assert.True(patterns.Matches("a/debug.log"));
        Assert.False(patterns.Matches("a/keep.log"));
        Assert.True(patterns.Matches("build/keep.txt"));
    }

    [Fact]
    public void Matches_CommentsAndBlankLinesAreIgnored()
    {
        var patterns = new PathPatterns(["# comment", "", "  "]);
        Assert.True(patterns.IsEmpty);
        Assert.False(patterns.Matches("anything"));
    }
}
