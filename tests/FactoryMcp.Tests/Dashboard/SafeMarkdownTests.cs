using FactoryMcp.Server.Dashboard;

namespace FactoryMcp.Tests.Dashboard;

/// <summary>Markdown written by agents, rendered for humans: what the hostile review used must render inert.</summary>
public sealed class SafeMarkdownTests
{
    [Theory]
    [InlineData("# H {onmouseover=alert(1)}")]
    [InlineData("# H {#x .y onmouseover=\"alert(1)\"}")]
    [InlineData("para {onclick=alert(1)}\n")]
    [InlineData("[x](https://example.com){onmouseover=alert(1)}")]
    public void GenericAttributes_AreNotRendered(string markdown)
    {
        var html = Html.FromMarkdown(markdown);
        // No tag carries an event handler, an id or a class the author chose; the attribute text stays visible.
        Assert.DoesNotMatch(@"<[^>]*\son[a-z]+\s*=", html);
        Assert.DoesNotMatch("<[^>]*\\s(id|class)=\"(x|y)\"", html);
        Assert.Contains("{", html);
    }

    [Theory]
    [InlineData("[x](javascript:alert(1))")]
    [InlineData("[x](JavaScript:alert(document.cookie))")]
    [InlineData("[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)")]
    [InlineData("[x](vbscript:msgbox(1))")]
    [InlineData("[x][ref]\n\n[ref]: javascript:alert(1)")]
    [InlineData("<javascript:alert(1)>")]
    [InlineData("[x](file:///etc/passwd)")]
    [InlineData("[x](//evil.example/)")]
    public void LinksToOtherSchemes_BecomeText(string markdown)
    {
        var html = Html.FromMarkdown(markdown);
        Assert.DoesNotContain("<a ", html);
        Assert.DoesNotContain("href", html);
    }

    [Theory]
    [InlineData("[x](https://example.com/a?b=1)", "https://example.com/a?b=1")]
    [InlineData("[x](http://example.com)", "http://example.com")]
    [InlineData("[mail](mailto:lead@example.com)", "mailto:lead@example.com")]
    [InlineData("<https://example.com/auto>", "https://example.com/auto")]
    [InlineData("see https://example.com/bare here", "https://example.com/bare")]
    [InlineData("[top](#intent)", "#intent")]
    public void HttpHttpsMailtoAndFragments_StayLinks(string markdown, string href)
    {
        var html = Html.FromMarkdown(markdown);
        Assert.Contains($"href=\"{href.Replace("&", "&amp;")}\"", html);
    }

    [Fact]
    public void RemoteImages_BecomeLinks_NeverImages()
    {
        var html = Html.FromMarkdown("![tracking pixel](https://evil.example/p.png?who=lead)");
        Assert.DoesNotContain("<img", html);
        Assert.Contains("href=\"https://evil.example/p.png?who=lead\"", html);
        Assert.Contains("[image: tracking pixel]", html);
    }

    [Theory]
    [InlineData("![x](javascript:alert(1))")]
    [InlineData("![x](data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=)")]
    [InlineData("![x](/local.png)")]
    public void OtherImages_BecomeTheirAltText(string markdown)
    {
        var html = Html.FromMarkdown(markdown);
        Assert.DoesNotContain("<img", html);
        Assert.DoesNotContain("href", html);
        Assert.Contains("[image: x]", html);
    }

    [Fact]
    public void RawHtml_StaysEscaped_AndOrdinaryMarkdownStillRenders()
    {
        var html = Html.FromMarkdown(
            "## Intent\n<script>alert(1)</script>\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n- [x] done\n"
        );
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("<h2", html);
        Assert.Contains("<table>", html);
        Assert.Contains("checkbox", html);
    }
}
