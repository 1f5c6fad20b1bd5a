namespace FactoryMcp.Bench.Report;

/// <summary>Prints figures as an aligned table (median, min, max, unit, target, verdict, note).</summary>
internal static class FigureTable
{
    public static void Print(TextWriter output, string title, IReadOnlyList<Figure> figures)
    {
        if (figures.Count == 0)
            return;
        var width = Math.Max(44, figures.Max(f => f.Name.Length) + 1);
        output.WriteLine();
        output.WriteLine($"== {title}");
        output.WriteLine(
            $"{"figure".PadRight(width)} {"median", 10} {"min", 10} {"max", 10}  {"unit", -8} {"target", -16} {"", -6} note"
        );
        foreach (var f in figures)
        {
            var verdict = f.Met switch
            {
                true => "met",
                false => "MISSED",
                null => "",
            };
            output.WriteLine(
                $"{f.Name.PadRight(width)} {Figure.Format(f.Median), 10} {Figure.Format(f.Min), 10} {Figure.Format(f.Max), 10}  {f.Unit, -8} {f.Target, -16} {verdict, -6} {f.Note}".TrimEnd()
            );
        }
        output.Flush();
    }
}
