namespace HaLua.DataPlane.Http;

/// <summary>One header field of a parsed head: offsets into the buffer the head was parsed from.</summary>
internal readonly record struct HttpField(int NameStart, int NameLength, int ValueStart, int ValueLength)
{
    public ReadOnlySpan<byte> Name(ReadOnlySpan<byte> buffer) => buffer.Slice(NameStart, NameLength);

    public ReadOnlySpan<byte> Value(ReadOnlySpan<byte> buffer) => buffer.Slice(ValueStart, ValueLength);
}

/// <summary>How a message body is delimited (RFC 9112 section 6).</summary>
internal enum BodyFraming
{
    /// <summary>No body (a request without Content-Length nor Transfer-Encoding, HEAD responses, 1xx, 204, 304).</summary>
    None,

    /// <summary>Exactly <see cref="HttpHead.ContentLength"/> bytes.</summary>
    ContentLength,

    /// <summary>Chunked transfer coding.</summary>
    Chunked,

    /// <summary>Until the server closes (responses only).</summary>
    UntilClose,
}

/// <summary>
/// A parsed request or response head. Everything is an offset into the caller's buffer: parsing
/// copies nothing and allocates nothing once <see cref="Fields"/> is large enough, and the same
/// instance is reused for every message of a connection (<see cref="Reset"/>).
/// </summary>
internal sealed class HttpHead
{
    private HttpField[] _fields = new HttpField[32];

    public int FieldCount { get; private set; }

    public ReadOnlySpan<HttpField> Fields => _fields.AsSpan(0, FieldCount);

    /// <summary>Bytes of the head, from the first byte to the end of the empty line.</summary>
    public int Length { get; set; }

    public Range Method { get; set; }

    public Range Target { get; set; }

    /// <summary>10 for HTTP/1.0, 11 for HTTP/1.1.</summary>
    public int Version { get; set; }

    /// <summary>Response status code.</summary>
    public int Status { get; set; }

    public Range Reason { get; set; }

    public BodyFraming Framing { get; set; }

    /// <summary>The Content-Length, or -1.</summary>
    public long ContentLength { get; set; } = -1;

    public bool HasTransferEncoding { get; set; }

    /// <summary>"Connection: close" (or HTTP/1.0 without "keep-alive").</summary>
    public bool Close { get; set; }

    /// <summary>"Connection: upgrade" with an Upgrade header (WebSocket...).</summary>
    public bool Upgrade { get; set; }

    /// <summary>"Expect: 100-continue".</summary>
    public bool ExpectContinue { get; set; }

    public void Reset()
    {
        FieldCount = 0;
        Length = 0;
        Method = default;
        Target = default;
        Version = 0;
        Status = 0;
        Reason = default;
        Framing = BodyFraming.None;
        ContentLength = -1;
        HasTransferEncoding = false;
        Close = false;
        Upgrade = false;
        ExpectContinue = false;
    }

    /// <summary>Replaces every field (a rewritten head).</summary>
    public void SetFields(ReadOnlySpan<HttpField> fields)
    {
        if (fields.Length > _fields.Length)
        {
            _fields = new HttpField[Math.Max(fields.Length, _fields.Length * 2)];
        }

        fields.CopyTo(_fields);
        FieldCount = fields.Length;
    }

    public void AddField(HttpField field)
    {
        if (FieldCount == _fields.Length)
        {
            Array.Resize(ref _fields, _fields.Length * 2);
        }

        _fields[FieldCount++] = field;
    }
}
