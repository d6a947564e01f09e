using System.Buffers;

namespace HaLua.DataPlane.Lua.Net;

/// <summary>A <c>Socket.receive</c> pattern: <c>*l</c>, <c>*a</c> or a byte count.</summary>
internal readonly record struct ReceivePattern(ReceiveKind Kind, int Count)
{
    public static readonly ReceivePattern Line = new(ReceiveKind.Line, 0);

    public static readonly ReceivePattern All = new(ReceiveKind.All, 0);

    public static ReceivePattern Bytes(int count) => new(ReceiveKind.Count, count);
}

internal enum ReceiveKind
{
    /// <summary><c>*l</c>: up to a LF, without it and without CRs.</summary>
    Line,

    /// <summary><c>*a</c>: everything until the peer closes.</summary>
    All,

    /// <summary>A number: that many bytes.</summary>
    Count,
}

/// <summary>What a receive gives with the bytes buffered so far.</summary>
internal enum ReceiveStatus
{
    /// <summary>Not enough yet: wait for more bytes.</summary>
    NeedMore,

    /// <summary>The result is ready (also what arrived before the peer closed: HAProxy's normal result).</summary>
    Data,

    /// <summary>The peer closed and nothing is left: nil, "closed".</summary>
    Closed,

    /// <summary>The time ran out: nil, "timeout" and what arrived meanwhile.</summary>
    Timeout,
}

/// <summary>
/// The bytes a Lua socket has received and not yet handed to the script, and the receive patterns
/// over them. A read appends at <see cref="PrepareRead"/>'s memory while the script consumes from
/// the front: the two regions never overlap, so a read may stay pending across receive calls.
/// </summary>
internal sealed class SocketInput : IDisposable
{
    private const int MinRead = 4096;

    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
    private int _start;
    private int _end;

    // Where the search for a LF resumes: bytes before it were searched already.
    private int _lineScanned;

    public int Count => _end - _start;

    /// <summary>The peer closed its side (or the connection failed): no more bytes will come.</summary>
    public bool Eof { get; set; }

    public ReadOnlySpan<byte> Data => _buffer.AsSpan(_start, _end - _start);

    /// <summary>Free room for the next read (the unread bytes are moved to the front or the buffer grows first). Only while no read is pending.</summary>
    public Memory<byte> PrepareRead()
    {
        if (_start == _end)
        {
            _start = _end = _lineScanned = 0;
        }
        else if (_buffer.Length - _end < MinRead)
        {
            int count = Count;
            if (_start > 0 && _buffer.Length - count >= MinRead)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, count);
            }
            else
            {
                var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(_buffer.Length * 2, count + MinRead));
                Buffer.BlockCopy(_buffer, _start, bigger, 0, count);
                ArrayPool<byte>.Shared.Return(_buffer);
                _buffer = bigger;
            }

            _lineScanned = Math.Max(0, _lineScanned - _start);
            _start = 0;
            _end = count;
        }

        return _buffer.AsMemory(_end);
    }

    /// <summary>A read put <paramref name="n"/> bytes at the memory <see cref="PrepareRead"/> gave.</summary>
    public void Commit(int n) => _end += n;

    /// <summary>
    /// Takes <paramref name="n"/> bytes from the front. The positions never go back here: a read
    /// may be pending at <see cref="PrepareRead"/>'s memory (only PrepareRead moves bytes).
    /// </summary>
    public void Consume(int n)
    {
        _start += n;
        _lineScanned = Math.Max(_lineScanned, _start);
    }

    /// <summary>
    /// What <paramref name="pattern"/> gives now. For <see cref="ReceiveStatus.Data"/> and
    /// <see cref="ReceiveStatus.Timeout"/>, the result is the first <paramref name="length"/>
    /// bytes of <see cref="Data"/> (CRs to be dropped for a line) and <paramref name="consume"/>
    /// bytes are taken. <paramref name="expired"/>: the time is up, the wait is over.
    /// </summary>
    public ReceiveStatus Next(ReceivePattern pattern, bool expired, out int length, out int consume)
    {
        length = consume = 0;
        switch (pattern.Kind)
        {
            case ReceiveKind.Line:
                int from = Math.Max(_lineScanned, _start);
                int lf = _buffer.AsSpan(from, _end - from).IndexOf((byte)'\n');
                if (lf >= 0)
                {
                    length = from - _start + lf;
                    consume = length + 1;
                    return ReceiveStatus.Data;
                }

                _lineScanned = _end;
                break;
            case ReceiveKind.Count when Count >= pattern.Count:
                length = consume = pattern.Count;
                return ReceiveStatus.Data;
        }

        if (Eof)
        {
            length = consume = Count;
            return Count > 0 ? ReceiveStatus.Data : ReceiveStatus.Closed;
        }

        if (expired)
        {
            length = consume = Count;
            return ReceiveStatus.Timeout;
        }

        return ReceiveStatus.NeedMore;
    }

    /// <summary>
    /// Gives the buffer back to the pool; <paramref name="readPending"/>: a read may still write
    /// into it, so it is left to the garbage collector instead.
    /// </summary>
    public void Release(bool readPending)
    {
        var buffer = _buffer;
        _buffer = [];
        _start = _end = _lineScanned = 0;
        Eof = true;
        if (!readPending && buffer.Length > 0)
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose() => Release(readPending: false);
}
