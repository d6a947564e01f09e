using System.Buffers;

namespace HaLua.DataPlane.Streams;

/// <summary>
/// One direction's buffer while rules inspect it (HAProxy's channel): an output part already
/// scheduled for the peer, then the input part not yet analysed. Bounded by tune.bufsize.
/// </summary>
internal sealed class ChannelBuffer : IDisposable
{
    public const int DefaultSize = 16 * 1024;

    private byte[] _buf;
    private int _out;
    private int _in;

    public ChannelBuffer(int size = DefaultSize)
    {
        Size = size;
        _buf = ArrayPool<byte>.Shared.Rent(size);
    }

    /// <summary>tune.bufsize: what "full" means.</summary>
    public int Size { get; }

    /// <summary>The producer will send nothing more (EOF or error).</summary>
    public bool InputClosed { get; set; }

    public int InLength => _in;

    public int OutLength => _out;

    public int Total => _out + _in;

    public bool IsFull => Total >= Size;

    public ReadOnlySpan<byte> Input => _buf.AsSpan(_out, _in);

    public ReadOnlySpan<byte> Output => _buf.AsSpan(0, _out);

    /// <summary>Output then input: everything to forward when analysis ends.</summary>
    public ReadOnlyMemory<byte> All => _buf.AsMemory(0, _out + _in);

    /// <summary>Free space for a receive into the input part.</summary>
    public Memory<byte> FreeSpace
    {
        get
        {
            EnsureCapacity(Total + 1);
            return _buf.AsMemory(Total, Math.Max(0, Math.Max(Size, _buf.Length) - Total));
        }
    }

    public void Received(int n) => _in += n;

    public void ConsumeInput(int n) => _in -= RemoveAt(_out, Math.Min(n, _in));

    public void ConsumeOutput(int n) => _out -= RemoveAt(0, Math.Min(n, _out));

    public void Clear()
    {
        _out = 0;
        _in = 0;
    }

    /// <summary>Replaces the input part.</summary>
    public int SetInput(ReadOnlySpan<byte> data)
    {
        _in = 0;
        return AppendInput(data);
    }

    public int AppendInput(ReadOnlySpan<byte> data)
    {
        EnsureCapacity(Total + data.Length);
        data.CopyTo(_buf.AsSpan(Total));
        _in += data.Length;
        return data.Length;
    }

    /// <summary>Schedules bytes for the peer ahead of the input (Channel.send).</summary>
    public int AppendOutput(ReadOnlySpan<byte> data)
    {
        EnsureCapacity(Total + data.Length);
        Buffer.BlockCopy(_buf, _out, _buf, _out + data.Length, _in);
        data.CopyTo(_buf.AsSpan(_out));
        _out += data.Length;
        return data.Length;
    }

    /// <summary>Moves up to n bytes from input to output (Channel.forward).</summary>
    public int Forward(int n)
    {
        n = Math.Clamp(n, 0, _in);
        _out += n;
        _in -= n;
        return n;
    }

    private int RemoveAt(int offset, int n)
    {
        if (n <= 0)
        {
            return 0;
        }

        int tail = Total - offset - n;
        Buffer.BlockCopy(_buf, offset + n, _buf, offset, tail);
        return n;
    }

    private void EnsureCapacity(int needed)
    {
        if (needed <= _buf.Length)
        {
            return;
        }

        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, _buf.Length * 2));
        _buf.AsSpan(0, Total).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(_buf);
        _buf = bigger;
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_buf);
        _buf = [];
    }
}
