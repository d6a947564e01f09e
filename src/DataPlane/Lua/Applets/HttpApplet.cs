using System.Buffers;
using System.Net.Sockets;
using System.Text;
using HaLua.DataPlane.Http;
using HaLua.DataPlane.Io;

namespace HaLua.DataPlane.Lua.Applets;

/// <summary>
/// The client side of a Lua HTTP service (AppletHTTP): the request body (Content-Length, or chunked
/// and decoded as it arrives) to read,
/// the response status and headers, then the body. Without a content-length header the response is
/// chunked and each slice's sends become a chunk (spec, AppletHTTP.add_header). Output is flushed
/// once per resume slice; the head goes with the first body bytes.
/// </summary>
internal sealed class HttpApplet : ILuaWaitable, ILuaSliceOwner, IAppletInput, IDisposable
{
    private const int OutputHighWater = 64 * 1024;

    private readonly Connection _client;
    private readonly HttpBuffer _in;
    private readonly CancellationToken _token;
    private long _bodyLeft;
    private byte[] _out = ArrayPool<byte>.Shared.Rent(4096);
    private int _outLen;
    private bool _waitForFlushOnly;
    private bool _peerClosed;
    private readonly ReadOnlyMemory<byte> _failurePage;

    // A chunked request body: decoded out of the input buffer into _decoded as it arrives.
    private readonly ChunkedDecoder? _dechunk;
    private readonly ArrayBufferWriter<byte>? _decoded;
    private int _decodedRead;

    /// <param name="failurePage">What a script that fails before starting its response answers (the proxy's 500 page; HAProxy's by default).</param>
    public HttpApplet(Connection client, HttpBuffer input, long bodyLength, CancellationToken token, bool chunkedBody = false, ReadOnlyMemory<byte>? failurePage = null)
    {
        _failurePage = failurePage ?? HttpErrors.For(500);
        _client = client;
        _in = input;
        _bodyLeft = bodyLength;
        _token = token;
        if (chunkedBody)
        {
            _dechunk = new ChunkedDecoder();
            _decoded = new ArrayBufferWriter<byte>();
            Dechunk();
        }
    }

    /// <summary>Moves what arrived of a chunked body into the decoded payload; bad framing ends the input.</summary>
    private void Dechunk()
    {
        if (_dechunk is null || _dechunk.IsDone || _in.Length == 0)
        {
            return;
        }

        if (_decodedRead > 0 && _decodedRead == _decoded!.WrittenCount)
        {
            _decoded.Clear();
            _decodedRead = 0;
        }

        var status = _dechunk.Consume(_in.Unread, out int consumed, _decoded);
        _in.Consume(consumed);
        if (status == ChunkedStatus.Error)
        {
            _peerClosed = true;
        }
    }

    public int Status { get; set; } = 200;

    public string? Reason { get; set; }

    // The headers add_header gave, as "name: value\r\n" lines.
    private byte[] _headers = ArrayPool<byte>.Shared.Rent(256);
    private int _headersLength;
    private bool _hasContentLength;

    /// <summary>add_header: false when the name is not a token or the value holds CR, LF or NUL.</summary>
    public bool AddHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (name.IsEmpty || name.IndexOfAnyExceptInRange((byte)'!', (byte)'~') >= 0 || name.Contains((byte)':') || value.IndexOfAny("\r\n\0"u8) >= 0)
        {
            return false;
        }

        _hasContentLength |= System.Text.Ascii.EqualsIgnoreCase(name, "content-length"u8);
        PooledBytes.Grow(ref _headers, _headersLength, _headersLength + name.Length + value.Length + 4);
        var dst = _headers.AsSpan(_headersLength);
        name.CopyTo(dst);
        ": "u8.CopyTo(dst[name.Length..]);
        value.CopyTo(dst[(name.Length + 2)..]);
        "\r\n"u8.CopyTo(dst[(name.Length + 2 + value.Length)..]);
        _headersLength += name.Length + value.Length + 4;
        return true;
    }

    public bool Started { get; private set; }

    public bool HeadSent { get; private set; }

    /// <summary>No content-length header: the body goes chunked.</summary>
    public bool Chunked { get; private set; }

    /// <summary>Whether the client connection can serve another request after this response.</summary>
    public bool KeepAlive => HeadSent && !_peerClosed && (_dechunk is null ? _bodyLeft == 0 : _dechunk.IsDone);

    public long BytesOut { get; private set; }

    /// <summary>No more body will come: all of it is here (or read), or the client went away.</summary>
    public bool InputClosed => _dechunk is null ? _in.Length >= _bodyLeft || _peerClosed : _dechunk.IsDone || _peerClosed;

    /// <summary>The part of the request body that has arrived.</summary>
    public ReadOnlySpan<byte> Input => _dechunk is null ? _in.Unread[..(int)Math.Min(_bodyLeft, _in.Length)] : _decoded!.WrittenSpan[_decodedRead..];

    public void Consume(int n)
    {
        if (_dechunk is not null)
        {
            _decodedRead += n;
            return;
        }

        _in.Consume(n);
        _bodyLeft -= n;
    }

    public void WaitForInput(LuaExecution exec)
    {
        _waitForFlushOnly = false;
        exec.Waiter = this;
    }

    public void StartResponse()
    {
        Started = true;
        Chunked = !_hasContentLength;
    }

    /// <summary>Appends body bytes; true when the script should wait for the client to take them.</summary>
    public bool Send(ReadOnlySpan<byte> data, LuaExecution exec)
    {
        if (data.IsEmpty)
        {
            return false;
        }

        if (Chunked)
        {
            Span<byte> size = stackalloc byte[18];
            data.Length.TryFormat(size, out int digits, "x", System.Globalization.CultureInfo.InvariantCulture);
            size[digits] = (byte)'\r';
            size[digits + 1] = (byte)'\n';
            Append(size[..(digits + 2)]);
            Append(data);
            Append("\r\n"u8);
        }
        else
        {
            Append(data);
        }

        if (_outLen >= OutputHighWater)
        {
            _waitForFlushOnly = true;
            exec.Waiter = this;
            return true;
        }

        return false;
    }

    private void Append(ReadOnlySpan<byte> data)
    {
        PooledBytes.Grow(ref _out, _outLen, _outLen + data.Length);

        data.CopyTo(_out.AsSpan(_outLen));
        _outLen += data.Length;
    }

    /// <summary>Writes the response head at the start of <paramref name="buf"/> (grown as needed); returns its length.</summary>
    private int WriteHead(ref byte[] buf)
    {
        int n = 0;
        void Put(ref byte[] b, ref int at, ReadOnlySpan<char> text)
        {
            PooledBytes.Grow(ref b, at, at + text.Length);
            at += Encoding.Latin1.GetBytes(text, b.AsSpan(at));
        }

        Put(ref buf, ref n, "HTTP/1.1 ");
        Span<char> code = stackalloc char[11];
        Status.TryFormat(code, out int len, default, System.Globalization.CultureInfo.InvariantCulture);
        Put(ref buf, ref n, code[..len]);
        Put(ref buf, ref n, " ");
        Put(ref buf, ref n, Reason ?? HttpResponses.Reason(Status));
        Put(ref buf, ref n, "\r\n");
        PooledBytes.Grow(ref buf, n, n + _headersLength);
        _headers.AsSpan(0, _headersLength).CopyTo(buf.AsSpan(n));
        n += _headersLength;

        if (Chunked)
        {
            Put(ref buf, ref n, "transfer-encoding: chunked\r\n");
        }

        Put(ref buf, ref n, "\r\n");
        return n;
    }

    public async ValueTask AfterSliceAsync()
    {
        if (!Started || (HeadSent && _outLen == 0))
        {
            return;
        }

        try
        {
            if (!HeadSent)
            {
                HeadSent = true;

                // The head, and the first body bytes in the same send.
                var both = ArrayPool<byte>.Shared.Rent(512 + _outLen);
                try
                {
                    int headLength = WriteHead(ref both);
                    PooledBytes.Grow(ref both, headLength, headLength + _outLen);
                    _out.AsSpan(0, _outLen).CopyTo(both.AsSpan(headLength));
                    int total = headLength + _outLen;
                    _outLen = 0;
                    await _client.SendAsync(both.AsMemory(0, total), _token).ConfigureAwait(false);
                    BytesOut += total;
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(both);
                }

                return;
            }

            if (_outLen > 0)
            {
                int n = _outLen;
                _outLen = 0;
                await _client.SendAsync(_out.AsMemory(0, n), _token).ConfigureAwait(false);
                BytesOut += n;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            _peerClosed = true;
        }
    }

    /// <summary>After the script: the end of a chunked body, or HAProxy's 500 when the script failed before starting a response.</summary>
    public async ValueTask FinishAsync(bool failed)
    {
        try
        {
            if (!Started)
            {
                if (failed)
                {
                    await _client.SendAsync(_failurePage, _token).ConfigureAwait(false);
                    BytesOut += _failurePage.Length;
                }

                _peerClosed = true;
                return;
            }

            await AfterSliceAsync().ConfigureAwait(false);
            if (Chunked && !_peerClosed)
            {
                await _client.SendAsync("0\r\n\r\n"u8.ToArray(), _token).ConfigureAwait(false);
                BytesOut += 5;
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            _peerClosed = true;
        }
    }

    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        if (_waitForFlushOnly || InputClosed)
        {
            return;
        }

        int n;
        try
        {
            n = await _client.ReceiveAsync(_in.Free, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            n = 0;
        }

        if (n == 0)
        {
            _peerClosed = true;
        }
        else
        {
            _in.End += n;
            Dechunk();
        }
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_out);
        ArrayPool<byte>.Shared.Return(_headers);
    }
}

/// <summary>The C# object behind a Lua AppletHTTP.</summary>
internal sealed class HttpAppletContext(HttpApplet applet, LuaPrivSlot priv) : LuaStreamContext(priv)
{
    public HttpApplet Applet { get; } = applet;
}
