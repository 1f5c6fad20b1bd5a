using System.Text.Json.Nodes;
using FactoryMcp.Ledger.Audit;

namespace FactoryMcp.Tests.Ledger;

public sealed class CanonicalJsonTests
{
    [Fact]
    public void Canonicalize_SortsMembersByUtf16AndDropsWhitespace()
    {
        var node = JsonNode.Parse("""{ "b": 1, "a": { "z": true, "y": null }, "\u00e9": "x", "A": [3, 2] }""");
        Assert.Equal("""{"A":[3,2],"a":{"y":null,"z":true},"b":1,"é":"x"}""", CanonicalJson.Canonicalize(node));
    }

    [Theory]
    [InlineData(0d, "0")]
    [InlineData(1d, "1")]
    [InlineData(4.5d, "4.5")]
    [InlineData(0.002d, "0.002")]
    [InlineData(1e21d, "1e+21")]
    [InlineData(1e-7d, "1e-7")]
    [InlineData(123456789012345680000d, "123456789012345680000")]
    [InlineData(333333333.3333333d, "333333333.3333333")]
    [InlineData(-1.5e-10d, "-1.5e-10")]
    public void FormatNumber_FollowsEcmaScript(double value, string expected) =>
        Assert.Equal(expected, CanonicalJson.FormatNumber(value));

    [Fact]
    public void Canonicalize_EscapesOnlyWhatRfc8785Requires()
    {
        var node = JsonValue.Create("a\"b\\c\n\u0001é€/");
        Assert.Equal("\"a\\\"b\\\\c\\n\\u0001é€/\"", CanonicalJson.Canonicalize(node));
    }
}
