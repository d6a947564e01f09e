using System.Buffers;

namespace HaLua.DataPlane.Http;

/// <summary>What <see cref="ChunkedDecoder.Consume"/> found in the bytes it was given.</summary>
internal enum ChunkedStatus
{
    /// <summary>All the bytes were valid framing or data; the body goes on.</summary>
    NeedMore,

    /// <summary>The last chunk and the trailers ended: the body is complete.</summary>
    Done,

    /// <summary>Invalid framing (bad size, missing CRLF...): the message must not be forwarded further.</summary>
    Error,
}

/// <summary>
/// Validates a chunked body as it streams (RFC 9112 section 7.1), byte by byte across any split of
/// the input, so that a proxy can forward the bytes as they are while refusing bad framing: chunk
/// sizes in hex (at most 15 digits), extensions without control characters, CRLF (or LF) after each
/// size line and after each chunk's data, trailers up to the empty line. It keeps no bytes.
/// </summary>
internal sealed class ChunkedDecoder
{
    private enum State { Size, SizeAfterHex, Extension, SizeLf, Data, DataCr, DataLf, TrailerStart, TrailerLine, TrailerLf, FinalLf, Done, Error }

    private const int MaxSizeDigits = 15;

    private State _state = State.Size;
    private long _chunkLeft;
    private int _digits;

    /// <summary>Payload bytes seen so far (without framing).</summary>
    public long PayloadLength { get; private set; }

    public bool IsDone => _state == State.Done;

    /// <summary>A short description of the framing error, when there is one.</summary>
    public string? Error { get; private set; }

    public void Reset()
    {
        _state = State.Size;
        _chunkLeft = 0;
        _digits = 0;
        PayloadLength = 0;
        Error = null;
    }

    /// <summary>
    /// Reads framing and data from <paramref name="input"/>; <paramref name="consumed"/> is how many of
    /// its bytes belong to this body (all of them unless it ended, when the rest is the next message).
    /// </summary>
    public ChunkedStatus Consume(ReadOnlySpan<byte> input, out int consumed) => Consume(input, out consumed, null);

    /// <summary>The same, and the payload bytes are appended to <paramref name="payload"/> (req.body).</summary>
    public ChunkedStatus Consume(ReadOnlySpan<byte> input, out int consumed, ArrayBufferWriter<byte>? payload)
    {
        int i = 0;
        while (i < input.Length && _state is not (State.Done or State.Error))
        {
            byte b = input[i];
            switch (_state)
            {
                case State.Size:
                    int hex = HexValue(b);
                    if (hex >= 0)
                    {
                        if (++_digits > MaxSizeDigits)
                        {
                            return Fail("chunk size too large", i, out consumed);
                        }

                        _chunkLeft = (_chunkLeft << 4) | (uint)hex;
                        i++;
                        break;
                    }

                    if (_digits == 0)
                    {
                        return Fail("invalid chunk size", i, out consumed);
                    }

                    _state = State.SizeAfterHex;
                    break;

                case State.SizeAfterHex:
                    if (b is (byte)' ' or (byte)'\t')
                    {
                        i++;
                    }
                    else if (b == (byte)';')
                    {
                        _state = State.Extension;
                        i++;
                    }
                    else if (b == (byte)'\r')
                    {
                        _state = State.SizeLf;
                        i++;
                    }
                    else if (b == (byte)'\n')
                    {
                        i++;
                        EndOfSizeLine();
                    }
                    else
                    {
                        return Fail("invalid chunk size", i, out consumed);
                    }

                    break;

                case State.Extension:
                    if (b == (byte)'\r')
                    {
                        _state = State.SizeLf;
                    }
                    else if (b == (byte)'\n')
                    {
                        i++;
                        EndOfSizeLine();
                        break;
                    }
                    else if (b < 0x20 && b != (byte)'\t' || b == 0x7F)
                    {
                        return Fail("control character in a chunk extension", i, out consumed);
                    }

                    i++;
                    break;

                case State.SizeLf:
                    if (b != (byte)'\n')
                    {
                        return Fail("bare CR after a chunk size", i, out consumed);
                    }

                    i++;
                    EndOfSizeLine();
                    break;

                case State.Data:
                    int take = (int)Math.Min(_chunkLeft, input.Length - i);
                    payload?.Write(input.Slice(i, take));
                    i += take;
                    _chunkLeft -= take;
                    PayloadLength += take;
                    if (_chunkLeft == 0)
                    {
                        _state = State.DataCr;
                    }

                    break;

                case State.DataCr:
                    if (b == (byte)'\r')
                    {
                        _state = State.DataLf;
                        i++;
                    }
                    else if (b == (byte)'\n')
                    {
                        _state = State.Size;
                        i++;
                    }
                    else
                    {
                        return Fail("missing CRLF after chunk data", i, out consumed);
                    }

                    break;

                case State.DataLf:
                    if (b != (byte)'\n')
                    {
                        return Fail("missing CRLF after chunk data", i, out consumed);
                    }

                    _state = State.Size;
                    i++;
                    break;

                case State.TrailerStart:
                    if (b == (byte)'\r')
                    {
                        _state = State.FinalLf;
                    }
                    else if (b == (byte)'\n')
                    {
                        _state = State.Done;
                    }
                    else if (b is (byte)' ' or (byte)'\t')
                    {
                        return Fail("obsolete line folding in trailers", i, out consumed);
                    }
                    else
                    {
                        _state = State.TrailerLine;
                    }

                    i++;
                    break;

                case State.TrailerLine:
                    if (b == (byte)'\r')
                    {
                        _state = State.TrailerLf;
                    }
                    else if (b == (byte)'\n')
                    {
                        _state = State.TrailerStart;
                    }
                    else if (b == 0)
                    {
                        return Fail("NUL in a trailer", i, out consumed);
                    }

                    i++;
                    break;

                case State.TrailerLf:
                    if (b != (byte)'\n')
                    {
                        return Fail("bare CR in trailers", i, out consumed);
                    }

                    _state = State.TrailerStart;
                    i++;
                    break;

                case State.FinalLf:
                    if (b != (byte)'\n')
                    {
                        return Fail("bare CR at the end of the body", i, out consumed);
                    }

                    _state = State.Done;
                    i++;
                    break;
            }
        }

        consumed = i;
        return _state switch
        {
            State.Done => ChunkedStatus.Done,
            State.Error => ChunkedStatus.Error,
            _ => ChunkedStatus.NeedMore,
        };
    }

    private void EndOfSizeLine()
    {
        _digits = 0;
        _state = _chunkLeft == 0 ? State.TrailerStart : State.Data;
    }

    private ChunkedStatus Fail(string why, int at, out int consumed)
    {
        Error = why;
        _state = State.Error;
        consumed = at;
        return ChunkedStatus.Error;
    }

    private static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
