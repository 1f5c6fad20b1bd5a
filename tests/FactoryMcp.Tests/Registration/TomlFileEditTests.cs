using FactoryMcp.Ledger;
using FactoryMcp.Tools.Registration;
using Tomlyn.Parsing;
using Tomlyn.Syntax;

namespace FactoryMcp.Tests.Registration;

/// <summary>`factory init`'s edits to Codex's config.toml: exactly the factory's entries change, nothing else.</summary>
public sealed class TomlFileEditTests
{
    private const string File = "/p/.codex/config.toml";
    private const string Table = "mcp_servers.factory";
    private static readonly string[] Body = ["command = \"/opt/factory\"", "args = [\"serve\"]"];

    private static string Set(string text) => TomlFileEdit.SetTable(text, Table, Body, File) ?? text;

    private static string Add(string text, string item = "/runs") =>
        TomlFileEdit.AddToArray(text, "sandbox_workspace_write", "writable_roots", item, File) ?? text;

    [Fact]
    public void SetTable_ArrayTablesAfterTheTable_AreKept()
    {
        const string before = """
            [mcp_servers.factory]
            command = "old"

            [[profiles.steps]]
            name = "one"

            [[profiles.steps]]
            name = "two"

            """;

        Assert.Equal(
            """
            [mcp_servers.factory]
            command = "/opt/factory"
            args = ["serve"]

            [[profiles.steps]]
            name = "one"

            [[profiles.steps]]
            name = "two"

            """,
            Set(before)
        );
    }

    [Fact]
    public void SetTable_MultiLineStringsCommentsAndInlineTables_StayByteForByte()
    {
        const string head = """"
            # personal settings
            model = "o3" # the default
            notes = '''
            [mcp_servers.factory]
            not a table: text in a literal string
            '''
            prompt = """
            line one \
              continued"""
            env = { A = "1", nested = { B = [1, 2] } }

            [mcp_servers.other]
            command = "y"
            env = { KEY = "v" }   # inline table with a comment

            """";

        var after = Set(head);

        Assert.Equal(head + "\n[mcp_servers.factory]\ncommand = \"/opt/factory\"\nargs = [\"serve\"]\n", after);
    }

    [Fact]
    public void SetTable_CommentsAfterTheTableAndAroundIt_StayWhereTheyWere()
    {
        const string before = """
            # about the factory
            [mcp_servers.factory] # ours
            command = "old" # replaced with the key
            env = { A = "1" }
            # about the next table

            [next]
            k = 1
            """;

        Assert.Equal(
            """
            # about the factory
            [mcp_servers.factory] # ours
            command = "/opt/factory"
            args = ["serve"]
            # about the next table

            [next]
            k = 1
            """,
            Set(before)
        );
    }

    [Fact]
    public void SetTable_SubTablesAndDottedKeysDefiningTheEntry_AreReplaced_OtherKeysKept()
    {
        const string before = """
            [mcp_servers]
            factory.args = ["old"]
            other.command = "keep"

            [mcp_servers.factory]
            command = "old"

            [mcp_servers.factory.env]
            FACTORY_AGENT = "x"

            # trailing comment
            """;

        Assert.Equal(
            """
            [mcp_servers]
            other.command = "keep"

            [mcp_servers.factory]
            command = "/opt/factory"
            args = ["serve"]

            # trailing comment
            """,
            Set(before)
        );
    }

    [Fact]
    public void SetTable_SecondRun_ChangesNothing()
    {
        var once = Set("model = \"o3\"");

        Assert.Equal("model = \"o3\"\n\n[mcp_servers.factory]\ncommand = \"/opt/factory\"\nargs = [\"serve\"]\n", once);
        Assert.Null(TomlFileEdit.SetTable(once, Table, Body, File));
        Assert.Null(TomlFileEdit.AddToArray(Add(once), "sandbox_workspace_write", "writable_roots", "/runs", File));
    }

    [Fact]
    public void SetTable_ControlCharactersInValues_AreEscaped_AndReadBackExactly()
    {
        const string value = "/opt/fac\u0001tory\t\"quoted\"\\\n\u007f\u001b[0m";
        var text = Add(TomlFileEdit.SetTable("", Table, [$"command = {TomlFileEdit.Quote(value)}"], File)!, value);

        Assert.DoesNotContain('\u0001', text);
        Assert.DoesNotContain('\u001b', text);
        Assert.DoesNotContain('\u007f', text);
        var strings = SyntaxParser.ParseStrict(text).Descendants().OfType<StringValueSyntax>().Select(s => s.Value);
        Assert.Equal([value, value], strings);
    }

    [Fact]
    public void SetTable_CrlfFileWithByteOrderMark_KeepsBoth()
    {
        var after = Set("\uFEFFmodel = \"o3\"\r\n");

        Assert.Equal(
            "\uFEFFmodel = \"o3\"\r\n\r\n[mcp_servers.factory]\r\ncommand = \"/opt/factory\"\r\nargs = [\"serve\"]\r\n",
            after
        );
    }

    [Fact]
    public void SetTable_EntryDefinedInsideAnInlineTable_IsRefusedAndNothingWritten()
    {
        var e = Assert.Throws<LedgerException>(() =>
            TomlFileEdit.SetTable("mcp_servers = { factory = { command = \"x\" } }\n", Table, Body, File)
        );

        Assert.Contains(File, e.Message);
        Assert.Contains("nothing was written", e.Message);
        Assert.Contains("[mcp_servers.factory]", e.Message);
    }

    [Fact]
    public void SetTable_InvalidToml_IsRefused()
    {
        var e = Assert.Throws<LedgerException>(() => TomlFileEdit.SetTable("[unclosed\nx = ", Table, Body, File));

        Assert.Contains($"{File} is not valid TOML", e.Message);
    }

    [Fact]
    public void AddToArray_OneLineArray_GetsTheItemFirst()
    {
        Assert.Equal(
            "[sandbox_workspace_write]\nwritable_roots = [\"/runs\", \"/tmp/a\"] # roots\nnetwork_access = false\n",
            Add("[sandbox_workspace_write]\nwritable_roots = [\"/tmp/a\"] # roots\nnetwork_access = false\n")
        );
    }

    [Fact]
    public void AddToArray_MultiLineArray_GetsTheItemOnItsOwnLine()
    {
        const string before = """
            [sandbox_workspace_write]
            writable_roots = [
                "/tmp/a", # first
                "/tmp/b",
            ]
            """;

        Assert.Equal(
            """
            [sandbox_workspace_write]
            writable_roots = [
                "/runs",
                "/tmp/a", # first
                "/tmp/b",
            ]
            """,
            Add(before)
        );
    }

    [Fact]
    public void AddToArray_TableWithoutTheKey_GetsItBeforeTheBlankLine()
    {
        Assert.Equal(
            "[sandbox_workspace_write]\nnetwork_access = true\nwritable_roots = [\"/runs\"]\n\n[other]\nx = 1\n",
            Add("[sandbox_workspace_write]\nnetwork_access = true\n\n[other]\nx = 1\n")
        );
    }

    [Fact]
    public void AddToArray_DottedKeyAtTheTop_IsFound()
    {
        Assert.Equal(
            "sandbox_workspace_write.writable_roots = [\"/runs\", \"/a\"]\n",
            Add("sandbox_workspace_write.writable_roots = [\"/a\"]\n")
        );
        Assert.Null(
            TomlFileEdit.AddToArray(
                "sandbox_workspace_write = { writable_roots = [\"/runs\"] }\n",
                "sandbox_workspace_write",
                "writable_roots",
                "/runs",
                File
            )
        );
    }

    [Fact]
    public void AddToArray_NotAnArray_IsRefused()
    {
        var e = Assert.Throws<LedgerException>(() => Add("[sandbox_workspace_write]\nwritable_roots = \"/tmp\"\n"));

        Assert.Contains("is not an array", e.Message);
    }
}
