using System.Text;

namespace FactoryMcp.Tools.Processes;

/// <summary>
/// Keeps the first and the last bytes of a stream (each half of <c>limit</c>), counting what was dropped in
/// between. Bytes are kept as they arrived; text is made only when asked for.
/// </summary>
internal sealed class BoundedCapture(int limit)
{
    private readonly MemoryStream head = new();
    private readonly Queue<byte[]> tail = new();
    private int tailBytes;
    private int skip;
    private long dropped;

    public long Total { get; private set; }
    public bool Truncated => dropped > 0;

    public void Append(ReadOnlySpan<byte> data)
    {
        lock (tail)
        {
            Total += data.Length;
            var half = limit / 2;
            var take = (int)Math.Min(half - head.Length, data.Length);
            if (take > 0)
            {
                head.Write(data[..take]);
                data = data[take..];
            }
            if (data.IsEmpty)
                return;
            tail.Enqueue(data.ToArray());
            tailBytes += data.Length;
            while (tailBytes - skip > half)
            {
                var first = tail.Peek();
                var excess = tailBytes - skip - half;
                var available = first.Length - skip;
                if (excess >= available)
                {
                    tail.Dequeue();
                    tailBytes -= first.Length;
                    skip = 0;
                    dropped += available;
                }
                else
                {
                    skip += excess;
                    dropped += excess;
                }
            }
        }
    }

    /// <summary>The kept bytes as UTF-8 text; when bytes were dropped, a line saying how many stands in for them.</summary>
    public override string ToString()
    {
        lock (tail)
        {
            var kept = new MemoryStream((int)head.Length + tailBytes - skip);
            head.WriteTo(kept);
            var headLength = (int)kept.Length;
            var offset = skip;
            foreach (var chunk in tail)
            {
                kept.Write(chunk, offset, chunk.Length - offset);
                offset = 0;
            }
            var bytes = kept.GetBuffer().AsSpan(0, (int)kept.Length);
            if (dropped == 0)
                return Encoding.UTF8.GetString(bytes);
            var start = bytes[..headLength];
            var end = bytes[headLength..];
            // A cut can fall inside a character: leave its stray bytes out rather than print replacement marks.
            while (!end.IsEmpty && (end[0] & 0xC0) == 0x80)
                end = end[1..];
            var text = new StringBuilder(Utf8Prefix(start));
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"\n… [{dropped} bytes omitted] …\n");
            return text.Append(Encoding.UTF8.GetString(end)).ToString();
        }
    }

    /// <summary>Decodes <paramref name="bytes"/>, leaving out a character the cut left incomplete at the end.</summary>
    private static string Utf8Prefix(ReadOnlySpan<byte> bytes)
    {
        var decoder = Encoding.UTF8.GetDecoder();
        var chars = new char[Encoding.UTF8.GetMaxCharCount(bytes.Length)];
        var count = decoder.GetChars(bytes, chars, flush: false);
        return new string(chars, 0, count);
    }
}
