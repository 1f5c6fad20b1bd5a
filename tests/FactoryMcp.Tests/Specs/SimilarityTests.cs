using FactoryMcp.Ledger.Signals;

namespace FactoryMcp.Tests.Specs;

/// <summary>The duplicate measure: Jaccard of normalized word sets, the higher of titles alone and title plus body.</summary>
public sealed class SimilarityTests
{
    [Fact]
    public void Score_Reworded_Report_IsAtOrAboveTheThreshold()
    {
        var first = Similarity.Of("Invoice totals round half-down", "Totals are off by a cent when a value ends in 5.");
        var second = Similarity.Of(
            "Invoice totals are rounded half-down",
            "When the value ends in 5, the totals are a cent off!"
        );

        Assert.True(
            Similarity.Score(first, second) >= Similarity.DefaultThreshold,
            $"score {Similarity.Score(first, second)}"
        );
    }

    [Fact]
    public void Score_UnrelatedReports_IsFarBelowTheThreshold()
    {
        var invoice = Similarity.Of(
            "Invoice totals round half-down",
            "Totals are off by a cent when a value ends in 5."
        );
        var crash = Similarity.Of(
            "App crashes when saving a report",
            "Saving any report closes the window without a message."
        );

        Assert.True(Similarity.Score(invoice, crash) < 0.2, $"score {Similarity.Score(invoice, crash)}");
    }

    [Fact]
    public void WordSet_DropsUrlsStopWordsAndCaseAndFoldsPlurals()
    {
        var words = Similarity.WordSet(
            "The Totals of INVOICES https://github.com/acme/billing/issues/1 are wrong; class a"
        );

        Assert.Equal(["class", "invoice", "total", "wrong"], words.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Jaccard_IsIntersectionOverUnion_AndZeroBelowThreeWords()
    {
        Assert.Equal(
            0.5,
            Similarity.Jaccard(
                new HashSet<string> { "a1", "b1", "c1" },
                new HashSet<string> { "a1", "b1", "c1", "d1", "e1", "f1" }
            )
        );
        Assert.Equal(
            1.0,
            Similarity.Jaccard(new HashSet<string> { "a1", "b1", "c1" }, new HashSet<string> { "c1", "b1", "a1" })
        );
        Assert.Equal(0, Similarity.Jaccard(new HashSet<string> { "crash" }, new HashSet<string> { "crash" }));
    }

    [Fact]
    public void Score_SameTitleDifferentLongBodies_CountsTheTitle()
    {
        var a = Similarity.Of(
            "Login button does nothing on Safari",
            "Clicking it shows no spinner and no request is sent. Version 17."
        );
        var b = Similarity.Of(
            "Login button does nothing on Safari",
            "Reported by three customers this week; their console shows a CSP violation on the auth frame."
        );

        Assert.Equal(1.0, Similarity.Score(a, b));
        Assert.True(Similarity.Jaccard(a.All, b.All) < Similarity.DefaultThreshold);
    }
}
