using System.Text;

namespace FactoryMcp.Tools.Processes;

/// <summary>Keeps the first and last bytes of a stream of text, counting what was dropped in between.</summary>
internal sealed class BoundedCapture(int limit)
{
    private readonly StringBuilder head = new();
    private readonly Queue<string> tail = new();
    private int tailChars;
    private long dropped;

    public long Total { get; private set; }
    public bool Truncated => dropped > 0;

    public void Append(string text)
    {
        lock (this)
        {
            Total += text.Length;
            var half = limit / 2;
            if (head.Length < half)
            {
                var take = Math.Min(half - head.Length, text.Length);
                head.Append(text, 0, take);
                text = text[take..];
                if (text.Length == 0)
                    return;
            }
            tail.Enqueue(text);
            tailChars += text.Length;
            while (tailChars > half && tail.Count > 1)
            {
                var removed = tail.Dequeue();
                tailChars -= removed.Length;
                dropped += removed.Length;
            }
            if (tailChars > half && tail.Count == 1)
            {
                var only = tail.Dequeue();
                var cut = only.Length - half;
                dropped += cut;
                tail.Enqueue(only[cut..]);
                tailChars = half;
            }
        }
    }

    public override string ToString()
    {
        lock (this)
        {
            var sb = new StringBuilder(head.ToString());
            if (dropped > 0)
                sb.Append($"\n… [{dropped} characters omitted] …\n");
            foreach (var part in tail)
                sb.Append(part);
            return sb.ToString();
        }
    }
}
