using System.Buffers.Binary;
using System.Text;

namespace FactoryMcp.Tools.Telemetry.Otlp;

/// <summary>
/// A minimal protocol-buffers wire reader: fields of one message, in order, each read or skipped by its wire
/// type. Enough for the OTLP messages the receiver decodes; malformed input throws <see cref="OtlpFormatException"/>.
/// </summary>
internal ref struct ProtoReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> data = data;
    private int position;

    public int Field { get; private set; }
    public int WireType { get; private set; }

    /// <summary>Moves to the next field; false at the end of the message.</summary>
    public bool Next()
    {
        if (position >= data.Length)
            return false;
        var tag = Varint();
        Field = (int)(tag >> 3);
        WireType = (int)(tag & 7);
        if (Field == 0)
            throw Malformed("field number 0");
        return true;
    }

    public ulong Varint()
    {
        ulong value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (position >= data.Length)
                throw Malformed("a truncated varint");
            var b = data[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
                return value;
        }
        throw Malformed("a varint longer than ten bytes");
    }

    public ulong Fixed64()
    {
        Need(8);
        var value = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(position, 8));
        position += 8;
        return value;
    }

    public uint Fixed32()
    {
        Need(4);
        var value = BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(position, 4));
        position += 4;
        return value;
    }

    public ReadOnlySpan<byte> Bytes()
    {
        Expect(2);
        var length = Varint();
        if (length > (ulong)(data.Length - position))
            throw Malformed("a length past the end of the message");
        var slice = data.Slice(position, (int)length);
        position += (int)length;
        return slice;
    }

    public string String() => Encoding.UTF8.GetString(Bytes());

    public ulong Number() =>
        WireType switch
        {
            0 => Varint(),
            1 => Fixed64(),
            5 => Fixed32(),
            _ => throw Malformed($"wire type {WireType} where a number was expected"),
        };

    public double Double() => WireType == 1 ? BitConverter.Int64BitsToDouble((long)Fixed64()) : (double)Number();

    public void Skip()
    {
        switch (WireType)
        {
            case 0:
                Varint();
                break;
            case 1:
                Fixed64();
                break;
            case 2:
                Bytes();
                break;
            case 5:
                Fixed32();
                break;
            default:
                throw Malformed($"wire type {WireType}");
        }
    }

    private void Expect(int wireType)
    {
        if (WireType != wireType)
            throw Malformed($"wire type {WireType} for field {Field}, expected {wireType}");
    }

    private readonly void Need(int bytes)
    {
        if (data.Length - position < bytes)
            throw Malformed("a truncated fixed-width field");
    }

    private static OtlpFormatException Malformed(string what) =>
        new($"The body is not valid OTLP protobuf: {what}. Send an Export*ServiceRequest (http/protobuf) or its JSON.");
}
