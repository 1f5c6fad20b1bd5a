using FactoryMcp.Ledger;
using FactoryMcp.Ledger.Lines;
using FactoryMcp.Ledger.Packets;

namespace FactoryMcp.Tests.Packets;

public sealed class PacketParserTests
{
    private const string DesignExample = """
        ---
        line: bugfix
        repo: ../billing
        base: main
        priority: 2
        ---
        # Invoice totals round half-down

        ## Intent
        Totals must round half-up to cents, as the invoice spec says.
        ## Source
        https://github.com/acme/billing/issues/123
        ## Scope
        - src/Invoice/
        - tests/Invoice/
        ## Non-Goals
        - src/Api/
        ## Reproduction
        ```sh
        dotnet test tests/Invoice --filter Rounding
        ```
        ## Validation
        - `dotnet build -warnaserror`
        - `dotnet test tests/Invoice`
        ## No-Op Rules
        - Totals already round half-up on base: NO_OP `already_fixed`.
        ## Evidence Required
        - plan
        - diff
        - test_output
        ## Output Format
        PR
        """;

    private static Packet Parse(string text, LineCatalog? lines = null) =>
        PacketParser.Parse(text, lines ?? LineCatalog.Empty);

    private static IReadOnlyList<string> Problems(string text, LineCatalog? lines = null) =>
        Assert.Throws<LedgerException>(() => Parse(text, lines)).Problems;

    [Fact]
    public void Parse_DesignExample_ReadsEveryPart()
    {
        var packet = Parse(DesignExample);
        Assert.Equal("Invoice totals round half-down", packet.Title);
        Assert.Equal("bugfix", packet.Line);
        Assert.Equal("../billing", packet.FrontMatter.Repo);
        Assert.Equal("main", packet.FrontMatter.Base);
        Assert.Equal(2, packet.FrontMatter.Priority);
        Assert.Equal("pr", packet.FrontMatter.Output);
        Assert.Equal(["src/Invoice/", "tests/Invoice/"], packet.Scope);
        Assert.Equal(["src/Api/"], packet.NonGoals);
        Assert.Equal(["dotnet build -warnaserror", "dotnet test tests/Invoice"], packet.Validation);
        Assert.Equal(["dotnet test tests/Invoice --filter Rounding"], packet.Reproduction!.Scripts);
        Assert.Equal(["plan", "diff", "test_output"], packet.EvidenceRequired);
        Assert.Equal("https://github.com/acme/billing/issues/123", packet.Source);
        Assert.Contains("already_fixed", packet.Section("No-Op Rules"));
    }

    [Fact]
    public void Parse_FencedValidation_EachNonBlankNonCommentLineIsACommand()
    {
        var packet = Parse(
            DesignExample.Replace(
                """
                - `dotnet build -warnaserror`
                - `dotnet test tests/Invoice`
                """,
                """
                ```sh
                # build first
                make build

                make test
                ```
                """
            )
        );
        Assert.Equal(["make build", "make test"], packet.Validation);
    }

    [Fact]
    public void Parse_FencedReproduction_IsOneWholeScript_AndListItemsAreOneCommandEach()
    {
        var fenced = Parse(
            DesignExample.Replace("dotnet test tests/Invoice --filter Rounding", "cd tests\n./repro.sh\nexit 3")
        );
        Assert.Equal(["cd tests\n./repro.sh\nexit 3"], fenced.Reproduction!.Scripts);
        var listed = Parse(
            DesignExample.Replace("```sh\ndotnet test tests/Invoice --filter Rounding\n```", "- `./a.sh`\n- `./b.sh`")
        );
        Assert.Equal(["./a.sh", "./b.sh"], listed.Reproduction!.Scripts);
    }

    [Fact]
    public void Parse_ReproductionExpect_ReadsExitCodeOrPattern()
    {
        var exit = Parse(DesignExample.Replace("## Validation", "expect: exit 3\n\n## Validation"));
        Assert.Equal(3, exit.Reproduction!.ExpectExitCode);
        var output = Parse(DesignExample.Replace("## Validation", "expect: output Expected: 1\\.01\n\n## Validation"));
        Assert.Equal("Expected: 1\\.01", output.Reproduction!.ExpectPattern);
    }

    [Fact]
    public void Parse_UnknownSections_AreKeptVerbatim()
    {
        var packet = Parse(DesignExample + "\n## Customer Notes\nCall *Ada* first.\n\n- twice\n");
        var section = Assert.Single(packet.Sections, s => s.Key == "customer notes");
        Assert.Equal("Customer Notes", section.Heading);
        Assert.Equal("Call *Ada* first.\n\n- twice", section.Markdown);
    }

    [Fact]
    public void Parse_SectionNames_AreCaseInsensitive()
    {
        var packet = Parse(
            DesignExample.Replace("## Validation", "## VALIDATION").Replace("## Non-Goals", "## non-goals")
        );
        Assert.Equal(2, packet.Validation.Count);
        Assert.Equal(["src/Api/"], packet.NonGoals);
    }

    [Fact]
    public void Parse_DuplicateSection_Refused()
    {
        var problems = Problems(DesignExample + "\n## scope\n- other/\n");
        Assert.Contains(problems, p => p.Contains("duplicate section") && p.Contains("Scope"));
    }

    [Fact]
    public void Parse_UnknownFrontMatterKey_Refused()
    {
        var problems = Problems(DesignExample.Replace("priority: 2", "priority: 2\nowner: bob"));
        Assert.Contains(problems, p => p.Contains("unknown front matter key `owner`"));
    }

    [Fact]
    public void Parse_UnknownEvidenceKind_Refused_ButALineMayDeclareIt()
    {
        var text = DesignExample.Replace("- test_output", "- test_output\n- perf_report");
        Assert.Contains(Problems(text), p => p.Contains("unknown evidence kind `perf_report`"));
        var lines = LineCatalog.Parse("bugfix:\n  evidence: [perf_report]\n");
        Assert.Contains("perf_report", Parse(text, lines).EvidenceRequired);
    }

    [Fact]
    public void Parse_MissingTitle_Refused()
    {
        Assert.Contains(
            Problems(DesignExample.Replace("# Invoice totals round half-down\n", "")),
            p => p.Contains("missing title")
        );
    }

    [Theory]
    [InlineData("## Intent\nTotals must round half-up to cents, as the invoice spec says.\n", "Intent")]
    [InlineData("## Scope\n- src/Invoice/\n- tests/Invoice/\n", "Scope")]
    [InlineData("## Validation\n- `dotnet build -warnaserror`\n- `dotnet test tests/Invoice`\n", "Validation")]
    [InlineData("## Evidence Required\n- plan\n- diff\n- test_output\n", "Evidence Required")]
    public void Parse_MissingMandatorySection_Refused(string section, string name)
    {
        Assert.Contains(
            Problems(DesignExample.Replace(section, "")),
            p => p.Contains($"missing mandatory section `## {name}`")
        );
    }

    [Fact]
    public void Parse_ValidationItemThatIsNotACommand_Refused()
    {
        var problems = Problems(DesignExample.Replace("- `dotnet test tests/Invoice`", "- run the tests please"));
        Assert.Contains(problems, p => p.Contains("'run the tests please'") && p.Contains("not a command"));
    }

    [Fact]
    public void Parse_SeveralProblems_AreAllListedAtOnce()
    {
        var text =
            DesignExample
                .Replace("priority: 2", "priority: high\ncolour: red")
                .Replace("# Invoice totals round half-down\n", "")
                .Replace("- test_output", "- vibes") + "\n## Intent\nagain\n";
        var problems = Problems(text);
        Assert.Contains(problems, p => p.Contains("`priority`"));
        Assert.Contains(problems, p => p.Contains("`colour`"));
        Assert.Contains(problems, p => p.Contains("missing title"));
        Assert.Contains(problems, p => p.Contains("`vibes`"));
        Assert.Contains(problems, p => p.Contains("duplicate section"));
        Assert.True(problems.Count >= 5);
    }

    [Fact]
    public void Parse_BadOutputAndOverrides_Refused()
    {
        var problems = Problems(
            DesignExample.Replace("priority: 2", "priority: 2\noutput: tweet\nlease_minutes: -1\nmax_attempts: 0")
        );
        Assert.Contains(problems, p => p.Contains("`output`"));
        Assert.Contains(problems, p => p.Contains("`lease_minutes`"));
        Assert.Contains(problems, p => p.Contains("`max_attempts`"));
    }

    [Fact]
    public void Parse_FractionalLeaseMinutesAndVerifiers_Accepted()
    {
        var packet = Parse(
            DesignExample.Replace("priority: 2", "priority: 2\nlease_minutes: 0.05\nverifiers: [qa, secops]")
        );
        Assert.Equal(0.05, packet.FrontMatter.LeaseMinutes);
        Assert.Equal(["qa", "secops"], packet.FrontMatter.Verifiers);
    }

    [Fact]
    public void Parse_LineNotInConfiguredLines_Refused()
    {
        var lines = LineCatalog.Parse("feature:\n  max_attempts: 2\n");
        Assert.Contains(Problems(DesignExample, lines), p => p.Contains("`line: bugfix` names no line"));
    }

    [Fact]
    public void Parse_OversizedPacket_Refused()
    {
        var e = Assert.Throws<LedgerException>(() => Parse(DesignExample + new string('x', PacketParser.MaxBytes)));
        Assert.Contains("the limit is", e.Message);
    }

    [Fact]
    public void Parse_InvalidYaml_Refused()
    {
        Assert.Contains(
            Problems(DesignExample.Replace("priority: 2", "priority: [2")),
            p => p.Contains("not valid YAML")
        );
    }
}
