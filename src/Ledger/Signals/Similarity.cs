using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace FactoryMcp.Ledger.Signals;

/// <summary>
/// How alike two pieces of demand are, from their words alone (no network service, no model):
/// the Jaccard index of their word sets, taken over the titles and over title plus body, whichever is
/// higher. Words are normalized so that wording differences do not hide a duplicate:
/// <list type="number">
/// <item>URLs are removed (every GitHub link shares "github", "com", …);</item>
/// <item>text is NFKC-normalized and lower-cased; words are maximal runs of letters or digits;</item>
/// <item>one-character words and common English stop words are dropped;</item>
/// <item>a final "s" is dropped from words of four or more characters not ending in "ss" (totals → total).</item>
/// </list>
/// A word set with fewer than <see cref="MinWords"/> words says too little to compare: its Jaccard is 0.
/// </summary>
public static partial class Similarity
{
    /// <summary>At or above this score a new signal is linked to the open task or signal it resembles and flagged.</summary>
    public const double DefaultThreshold = 0.5;

    /// <summary>Fewer distinct words than this compare as 0 (a title like "Crash" matches too much).</summary>
    public const int MinWords = 3;

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "about",
        "above",
        "after",
        "again",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "but",
        "by",
        "can",
        "cannot",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "don",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "him",
        "his",
        "how",
        "if",
        "in",
        "into",
        "is",
        "isn",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "nor",
        "now",
        "of",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "until",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
    };

    [GeneratedRegex(@"\bhttps?://\S+", RegexOptions.IgnoreCase)]
    private static partial Regex Url();

    /// <summary>The normalized word sets of one piece of demand: its title alone, and its title with its body.</summary>
    public sealed record Words(IReadOnlySet<string> Title, IReadOnlySet<string> All);

    public static Words Of(string title, string? body)
    {
        var t = WordSet(title);
        var all = new HashSet<string>(t, StringComparer.Ordinal);
        all.UnionWith(WordSet(body ?? ""));
        return new Words(t, all);
    }

    /// <summary>max(Jaccard of the titles, Jaccard of title + body), in [0, 1].</summary>
    public static double Score(Words a, Words b) => Math.Max(Jaccard(a.Title, b.Title), Jaccard(a.All, b.All));

    /// <summary>|A ∩ B| / |A ∪ B|; 0 when either set has fewer than <see cref="MinWords"/> words.</summary>
    public static double Jaccard(IReadOnlySet<string> a, IReadOnlySet<string> b)
    {
        if (a.Count < MinWords || b.Count < MinWords)
            return 0;
        var (small, large) = a.Count <= b.Count ? (a, b) : (b, a);
        var common = small.Count(large.Contains);
        return (double)common / (a.Count + b.Count - common);
    }

    /// <summary>The normalized words of a text (see the type's summary).</summary>
    public static HashSet<string> WordSet(string text)
    {
        var words = new HashSet<string>(StringComparer.Ordinal);
        var normalized = Url()
            .Replace(text, " ")
            .Normalize(NormalizationForm.FormKC)
            .ToLower(CultureInfo.InvariantCulture);
        var start = -1;
        for (var i = 0; i <= normalized.Length; i++)
        {
            var inWord = i < normalized.Length && char.IsLetterOrDigit(normalized[i]);
            if (inWord && start < 0)
                start = i;
            if (inWord || start < 0)
                continue;
            Add(words, normalized[start..i]);
            start = -1;
        }
        return words;
    }

    private static void Add(HashSet<string> words, string word)
    {
        if (word.Length < 2 || StopWords.Contains(word))
            return;
        if (word.Length >= 4 && word[^1] == 's' && word[^2] != 's')
            word = word[..^1];
        words.Add(word);
    }
}
