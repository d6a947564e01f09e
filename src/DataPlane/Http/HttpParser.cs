using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Text;

namespace HaLua.DataPlane.Http;

/// <summary>Outcome of parsing a head from what has arrived so far.</summary>
internal enum HttpParseStatus
{
    /// <summary>The head is not complete yet: call again with more bytes.</summary>
    NeedMore,

    /// <summary>The head is parsed; <see cref="HttpHead.Length"/> bytes of the buffer are its.</summary>
    Done,

    /// <summary>The message is malformed: answer <see cref="HttpParser.ErrorStatus"/> and forward nothing.</summary>
    Error,
}

/// <summary>
/// HTTP/1.1 heads (RFC 9112), strict where request smuggling lives: one space between the parts
/// of the request line, token-only header names with the colon right after them, no obs-fold, no
/// bare CR, a single coherent Content-Length, Transfer-Encoding ending in "chunked" (requests), never
/// both Content-Length and Transfer-Encoding in a request, and the whole head within the buffer size
/// (tune.bufsize). Line ends may be CRLF or LF, as HAProxy accepts. The parser is restartable: the
/// caller keeps the bytes and calls again when more arrive; it reads spans and returns offsets.
/// </summary>
internal static class HttpParser
{
    /// <summary>HAProxy answers 400 to every malformed or oversized request head.</summary>
    public const int ErrorStatus = 400;

    // RFC 9110 tchar.
    private static readonly SearchValues<byte> TChar = SearchValues.Create("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"u8);

    // Request-target: visible ASCII.
    private static readonly SearchValues<byte> TargetChar = SearchValues.Create(Enumerable.Range(0x21, 0x7E - 0x21 + 1).Select(i => (byte)i).ToArray());

    // In field values: anything but NUL, CR and LF (HAProxy accepts other control characters).
    private static readonly SearchValues<byte> BadValueChar = SearchValues.Create([0, (byte)'\r', (byte)'\n']);

    /// <summary>Parses a request head from the start of <paramref name="buffer"/>.</summary>
    public static HttpParseStatus ParseRequest(ReadOnlySpan<byte> buffer, HttpHead head, int maxHeadSize, out string? error)
    {
        head.Reset();
        var status = ParseStartAndFields(buffer, head, maxHeadSize, isRequest: true, out error);
        if (status != HttpParseStatus.Done)
        {
            return status;
        }

        return ApplyFieldSemantics(buffer, head, isRequest: true, requestWasHead: false, out error);
    }

    /// <summary>Parses a response head; <paramref name="requestWasHead"/> tells that it answers a HEAD (no body).</summary>
    public static HttpParseStatus ParseResponse(ReadOnlySpan<byte> buffer, HttpHead head, int maxHeadSize, bool requestWasHead, out string? error)
    {
        head.Reset();
        var status = ParseStartAndFields(buffer, head, maxHeadSize, isRequest: false, out error);
        if (status != HttpParseStatus.Done)
        {
            return status;
        }

        return ApplyFieldSemantics(buffer, head, isRequest: false, requestWasHead, out error);
    }

    private static HttpParseStatus ParseStartAndFields(ReadOnlySpan<byte> buffer, HttpHead head, int maxHeadSize, bool isRequest, out string? error)
    {
        error = null;
        int pos = 0;
        if (!NextLine(buffer, ref pos, out var line, out error))
        {
            return error is null ? MoreOrTooLong(buffer, maxHeadSize, out error) : HttpParseStatus.Error;
        }

        if (!(isRequest ? ParseRequestLine(line, head, out error) : ParseStatusLine(line, head, out error)))
        {
            return HttpParseStatus.Error;
        }

        while (true)
        {
            int lineStart = pos;
            if (!NextLine(buffer, ref pos, out line, out error))
            {
                return error is null ? MoreOrTooLong(buffer, maxHeadSize, out error) : HttpParseStatus.Error;
            }

            if (line.IsEmpty)
            {
                if (pos > maxHeadSize)
                {
                    return Fail("head larger than the buffer (tune.bufsize)", out error);
                }

                head.Length = pos;
                return HttpParseStatus.Done;
            }

            if (line[0] is (byte)' ' or (byte)'\t')
            {
                return Fail("obsolete line folding", out error);
            }

            int colon = line.IndexOf((byte)':');
            if (colon <= 0)
            {
                return Fail(colon == 0 ? "empty header name" : "header line without a colon", out error);
            }

            if (line[..colon].IndexOfAnyExcept(TChar) >= 0)
            {
                return Fail("invalid character in a header name", out error);
            }

            int vs = colon + 1;
            while (vs < line.Length && line[vs] is (byte)' ' or (byte)'\t')
            {
                vs++;
            }

            int ve = line.Length;
            while (ve > vs && line[ve - 1] is (byte)' ' or (byte)'\t')
            {
                ve--;
            }

            if (line[vs..ve].IndexOfAny(BadValueChar) >= 0)
            {
                return Fail("invalid character in a header value", out error);
            }

            head.AddField(new HttpField(lineStart, colon, lineStart + vs, ve - vs));
        }
    }

    /// <summary>The next line from <paramref name="pos"/>, without its CRLF or LF; false when incomplete (or a bare CR: <paramref name="error"/>).</summary>
    private static bool NextLine(ReadOnlySpan<byte> buffer, ref int pos, out ReadOnlySpan<byte> line, out string? error)
    {
        error = null;
        var rest = buffer[pos..];
        int lf = rest.IndexOf((byte)'\n');
        if (lf < 0)
        {
            line = default;
            int cr = rest.IndexOf((byte)'\r');
            if (cr >= 0 && cr < rest.Length - 1)
            {
                error = "bare CR";
            }

            return false;
        }

        line = lf > 0 && rest[lf - 1] == (byte)'\r' ? rest[..(lf - 1)] : rest[..lf];
        if (line.IndexOf((byte)'\r') >= 0)
        {
            error = "bare CR";
            return false;
        }

        pos += lf + 1;
        return true;
    }

    private static HttpParseStatus MoreOrTooLong(ReadOnlySpan<byte> buffer, int maxHeadSize, out string? error)
    {
        if (buffer.Length >= maxHeadSize)
        {
            return Fail("head larger than the buffer (tune.bufsize)", out error);
        }

        error = null;
        return HttpParseStatus.NeedMore;
    }

    private static bool ParseRequestLine(ReadOnlySpan<byte> line, HttpHead head, out string? error)
    {
        error = null;
        int sp1 = line.IndexOf((byte)' ');
        if (sp1 <= 0 || line[..sp1].IndexOfAnyExcept(TChar) >= 0)
        {
            return FailBool("invalid method", out error);
        }

        int sp2 = line[(sp1 + 1)..].IndexOf((byte)' ');
        if (sp2 <= 0)
        {
            return FailBool("invalid request line", out error);
        }

        sp2 += sp1 + 1;
        var target = line[(sp1 + 1)..sp2];
        if (target.IndexOfAnyExcept(TargetChar) >= 0)
        {
            return FailBool("invalid character in the request target", out error);
        }

        if (!ParseVersion(line[(sp2 + 1)..], out int version))
        {
            return FailBool("invalid HTTP version", out error);
        }

        head.Method = new Range(0, sp1);
        head.Target = new Range(sp1 + 1, sp2);
        head.Version = version;
        return true;
    }

    private static bool ParseStatusLine(ReadOnlySpan<byte> line, HttpHead head, out string? error)
    {
        error = null;
        if (line.Length < 12 || !ParseVersion(line[..8], out int version) || line[8] != (byte)' '
            || !IsDigit(line[9]) || !IsDigit(line[10]) || !IsDigit(line[11]) || (line.Length > 12 && line[12] != (byte)' '))
        {
            return FailBool("invalid status line", out error);
        }

        int status = ((line[9] - '0') * 100) + ((line[10] - '0') * 10) + (line[11] - '0');
        if (status < 100)
        {
            return FailBool("invalid status code", out error);
        }

        head.Version = version;
        head.Status = status;
        head.Reason = line.Length > 13 ? new Range(13, line.Length) : new Range(line.Length, line.Length);
        return true;
    }

    /// <summary>"HTTP/1.0" or "HTTP/1.1" (HTTP/1.x with any minor digit counts as 1.1).</summary>
    private static bool ParseVersion(ReadOnlySpan<byte> v, out int version)
    {
        version = 0;
        if (v.Length != 8 || !v.StartsWith("HTTP/1."u8) || !IsDigit(v[7]))
        {
            return false;
        }

        version = v[7] == (byte)'0' ? 10 : 11;
        return true;
    }

    private static HttpParseStatus ApplyFieldSemantics(ReadOnlySpan<byte> buffer, HttpHead head, bool isRequest, bool requestWasHead, out string? error)
    {
        error = null;
        bool keepAlive = false, close = false, connectionUpgrade = false, hasUpgrade = false;
        foreach (var f in head.Fields)
        {
            var name = f.Name(buffer);
            var value = f.Value(buffer);
            if (Ascii.EqualsIgnoreCase(name, "content-length"u8))
            {
                if (!ParseContentLength(value, out long cl) || (head.ContentLength >= 0 && head.ContentLength != cl))
                {
                    return Fail("invalid or conflicting Content-Length", out error);
                }

                head.ContentLength = cl;
            }
            else if (Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8))
            {
                if (head.HasTransferEncoding)
                {
                    // Several Transfer-Encoding lines are one list; "chunked" must end the last one.
                    if (isRequest)
                    {
                        return Fail("several Transfer-Encoding headers", out error);
                    }
                }

                head.HasTransferEncoding = true;
                if (!EndsWithChunked(value, out bool chunkedTwice) || chunkedTwice)
                {
                    if (isRequest)
                    {
                        return Fail("Transfer-Encoding not ending in chunked", out error);
                    }

                    head.Framing = BodyFraming.UntilClose;
                }
                else
                {
                    head.Framing = BodyFraming.Chunked;
                }
            }
            else if (Ascii.EqualsIgnoreCase(name, "connection"u8))
            {
                foreach (var token in new TokenEnumerator(value))
                {
                    close |= Ascii.EqualsIgnoreCase(token, "close"u8);
                    keepAlive |= Ascii.EqualsIgnoreCase(token, "keep-alive"u8);
                    connectionUpgrade |= Ascii.EqualsIgnoreCase(token, "upgrade"u8);
                }
            }
            else if (Ascii.EqualsIgnoreCase(name, "upgrade"u8))
            {
                hasUpgrade = true;
            }
            else if (isRequest && Ascii.EqualsIgnoreCase(name, "expect"u8))
            {
                head.ExpectContinue |= Ascii.EqualsIgnoreCase(value, "100-continue"u8);
            }
        }

        head.Close = close || (head.Version == 10 && !keepAlive);
        head.Upgrade = connectionUpgrade && hasUpgrade;

        if (isRequest)
        {
            if (head.HasTransferEncoding && head.ContentLength >= 0)
            {
                return Fail("both Content-Length and Transfer-Encoding", out error);
            }

            if (!head.HasTransferEncoding)
            {
                head.Framing = head.ContentLength > 0 ? BodyFraming.ContentLength : BodyFraming.None;
            }

            return HttpParseStatus.Done;
        }

        // Responses (RFC 9112 section 6.3): no body for HEAD, 1xx, 204, 304; Transfer-Encoding wins over Content-Length.
        if (requestWasHead || head.Status < 200 || head.Status is 204 or 304)
        {
            head.Framing = BodyFraming.None;
        }
        else if (head.HasTransferEncoding)
        {
            head.ContentLength = -1;
        }
        else if (head.ContentLength >= 0)
        {
            head.Framing = head.ContentLength > 0 ? BodyFraming.ContentLength : BodyFraming.None;
        }
        else
        {
            head.Framing = BodyFraming.UntilClose;
        }

        return HttpParseStatus.Done;
    }

    /// <summary>Digits, or a comma-separated list of identical values (HAProxy accepts "3, 3").</summary>
    private static bool ParseContentLength(ReadOnlySpan<byte> value, out long length)
    {
        length = -1;
        foreach (var token in new TokenEnumerator(value))
        {
            if (token.IsEmpty || token.Length > 18 || token.IndexOfAnyExceptInRange((byte)'0', (byte)'9') >= 0)
            {
                return false;
            }

            long v = 0;
            foreach (byte b in token)
            {
                v = (v * 10) + (b - '0');
            }

            if (length >= 0 && v != length)
            {
                return false;
            }

            length = v;
        }

        return length >= 0;
    }

    private static bool EndsWithChunked(ReadOnlySpan<byte> value, out bool chunkedTwice)
    {
        int chunked = 0;
        bool last = false;
        foreach (var token in new TokenEnumerator(value))
        {
            last = Ascii.EqualsIgnoreCase(token, "chunked"u8);
            if (last)
            {
                chunked++;
            }
        }

        chunkedTwice = chunked > 1;
        return last;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static HttpParseStatus Fail(string why, out string? error)
    {
        error = why;
        return HttpParseStatus.Error;
    }

    private static bool FailBool(string why, [NotNullWhen(false)] out string? error)
    {
        error = why;
        return false;
    }

    /// <summary>Comma-separated tokens with optional whitespace (a ref struct: no allocation).</summary>
    private ref struct TokenEnumerator(ReadOnlySpan<byte> value)
    {
        private ReadOnlySpan<byte> _rest = value;
        private bool _done;

        public ReadOnlySpan<byte> Current { get; private set; }

        public readonly TokenEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            if (_done)
            {
                return false;
            }

            int comma = _rest.IndexOf((byte)',');
            var token = comma < 0 ? _rest : _rest[..comma];
            _done = comma < 0;
            _rest = comma < 0 ? default : _rest[(comma + 1)..];
            Current = token.Trim(" \t"u8);
            return true;
        }
    }
}
