using System.Text;
using HaLua.DataPlane.Http;

namespace HaLua.DataPlane.Tests.Http;

public class HttpParserTests
{
    private const int BufSize = 16384;

    private static (HttpParseStatus Status, HttpHead Head, string? Error) Request(string raw)
    {
        var head = new HttpHead();
        var status = HttpParser.ParseRequest(Encoding.Latin1.GetBytes(raw), head, BufSize, out var error);
        return (status, head, error);
    }

    private static string Text(string raw, Range r) => raw[r];

    [Fact]
    public void Request_Simple_ParsesLineAndFieldsAsOffsets()
    {
        const string raw = "GET /path?q=1 HTTP/1.1\r\nHost: example.com\r\nX-Empty:\r\nX-Spaces:  a b  \r\n\r\nBODY";
        var (status, head, error) = Request(raw);
        Assert.Equal(HttpParseStatus.Done, status);
        Assert.Null(error);
        Assert.Equal("GET", Text(raw, head.Method));
        Assert.Equal("/path?q=1", Text(raw, head.Target));
        Assert.Equal(11, head.Version);
        Assert.Equal(raw.Length - 4, head.Length);
        var bytes = Encoding.Latin1.GetBytes(raw);
        var fields = head.Fields.ToArray().Select(f => (Encoding.Latin1.GetString(f.Name(bytes)), Encoding.Latin1.GetString(f.Value(bytes)))).ToArray();
        Assert.Equal([("Host", "example.com"), ("X-Empty", ""), ("X-Spaces", "a b")], fields);
        Assert.Equal(BodyFraming.None, head.Framing);
        Assert.False(head.Close);
    }

    [Fact]
    public void Request_LfOnlyLineEnds_AcceptedAsHAProxyDoes()
    {
        var (status, head, _) = Request("GET / HTTP/1.1\nHost: a\n\n");
        Assert.Equal(HttpParseStatus.Done, status);
        Assert.Equal(1, head.FieldCount);
    }

    [Theory]
    [InlineData("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n", (int)BodyFraming.ContentLength, 5L)]
    [InlineData("POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", (int)BodyFraming.None, 0L)]
    [InlineData("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", (int)BodyFraming.ContentLength, 3L)]
    [InlineData("POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\n", (int)BodyFraming.ContentLength, 3L)]
    [InlineData("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", (int)BodyFraming.Chunked, -1L)]
    [InlineData("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n", (int)BodyFraming.Chunked, -1L)]
    public void Request_BodyFraming(string raw, int framing, long length)
    {
        var (status, head, error) = Request(raw);
        Assert.True(status == HttpParseStatus.Done, error);
        Assert.Equal((BodyFraming)framing, head.Framing);
        Assert.Equal(length, head.ContentLength);
    }

    [Theory]
    [InlineData("GET / HTTP/1.0\r\n\r\n", true)]
    [InlineData("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", false)]
    [InlineData("GET / HTTP/1.1\r\nConnection: Close\r\n\r\n", true)]
    [InlineData("GET / HTTP/1.1\r\nConnection: foo, close\r\n\r\n", true)]
    [InlineData("GET / HTTP/1.1\r\n\r\n", false)]
    public void Request_ConnectionClose(string raw, bool close)
    {
        var (status, head, _) = Request(raw);
        Assert.Equal(HttpParseStatus.Done, status);
        Assert.Equal(close, head.Close);
    }

    [Fact]
    public void Request_UpgradeAndExpect()
    {
        var (_, head, _) = Request("GET /ws HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nExpect: 100-continue\r\n\r\n");
        Assert.True(head.Upgrade);
        Assert.True(head.ExpectContinue);
        var (_, plain, _) = Request("GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n");
        Assert.False(plain.Upgrade);
    }

    /// <summary>Request smuggling and malformed heads: each must be refused, nothing forwarded.</summary>
    [Theory]
    [InlineData("POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", "both Content-Length and Transfer-Encoding")]
    [InlineData("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", "both Content-Length and Transfer-Encoding")]
    [InlineData("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", "Content-Length")]
    [InlineData("POST / HTTP/1.1\r\nContent-Length: 3, 4\r\n\r\n", "Content-Length")]
    [InlineData("POST / HTTP/1.1\r\nContent-Length: 3x\r\n\r\n", "Content-Length")]
    [InlineData("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", "Content-Length")]
    [InlineData("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", "Content-Length")]
    [InlineData("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", "Content-Length")]
    [InlineData("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", "Transfer-Encoding")]
    [InlineData("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", "Transfer-Encoding")]
    [InlineData("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", "Transfer-Encoding")]
    [InlineData("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", "Transfer-Encoding")]
    [InlineData("GET / HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n", "folding")]
    [InlineData("GET / HTTP/1.1\r\n X-A: b\r\n\r\n", "folding")]
    [InlineData("GET / HTTP/1.1\r\nX A: b\r\n\r\n", "header name")]
    [InlineData("GET / HTTP/1.1\r\nX-A : b\r\n\r\n", "header name")]
    [InlineData("GET / HTTP/1.1\r\nX\u0001A: b\r\n\r\n", "header name")]
    [InlineData("GET / HTTP/1.1\r\n: b\r\n\r\n", "empty header name")]
    [InlineData("GET / HTTP/1.1\r\nNoColon\r\n\r\n", "colon")]
    [InlineData("GET / HTTP/1.1\r\nX-A: b\u0000c\r\n\r\n", "header value")]
    [InlineData("GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", "bare CR")]
    [InlineData("GET / HTTP/1.1\rX\r\n\r\n", "bare CR")]
    [InlineData("GET /\r\n\r\n", "request line")]
    [InlineData("GET / HTTP/2.0\r\n\r\n", "version")]
    [InlineData("GET / http/1.1\r\n\r\n", "version")]
    [InlineData("GET / HTTP/1.1 \r\n\r\n", "version")]
    [InlineData("G(T / HTTP/1.1\r\n\r\n", "method")]
    [InlineData(" GET / HTTP/1.1\r\n\r\n", "method")]
    [InlineData("GET  / HTTP/1.1\r\n\r\n", "request line")]
    [InlineData("GET /a b HTTP/1.1\r\n\r\n", "version")]
    [InlineData("GET /a\u007fb HTTP/1.1\r\n\r\n", "request target")]
    [InlineData("GET /\u00e9 HTTP/1.1\r\n\r\n", "request target")]
    public void Request_Malformed_IsRefused(string raw, string reason)
    {
        var (status, _, error) = Request(raw);
        Assert.Equal(HttpParseStatus.Error, status);
        Assert.Contains(reason, error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Request_HeadLargerThanBuffer_IsRefused_EvenUnfinished()
    {
        var longLine = "GET /" + new string('a', BufSize) + " HTTP/1.1\r\n\r\n";
        Assert.Equal(HttpParseStatus.Error, Request(longLine).Status);
        Assert.Equal(HttpParseStatus.Error, Request(longLine[..(BufSize + 2)]).Status);
        var longHeader = "GET / HTTP/1.1\r\nX: " + new string('a', BufSize) + "\r\n\r\n";
        Assert.Equal(HttpParseStatus.Error, Request(longHeader).Status);
        var manyHeaders = "GET / HTTP/1.1\r\n" + string.Concat(Enumerable.Range(0, 2000).Select(i => $"X-{i}: v\r\n")) + "\r\n";
        Assert.Equal(HttpParseStatus.Error, Request(manyHeaders).Status);
        var (status, head, _) = Request("GET / HTTP/1.1\r\n" + string.Concat(Enumerable.Range(0, 500).Select(i => $"X-{i}: v\r\n")) + "\r\n");
        Assert.Equal(HttpParseStatus.Done, status);
        Assert.Equal(500, head.FieldCount);
    }

    public static TheoryData<string> ValidRequests() =>
    [
        "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "POST /upload?x=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\n",
        "PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\nX-Long: " + new string('v', 300) + "\r\n\r\n",
        "GET / HTTP/1.0\n\n",
    ];

    /// <summary>Every truncated prefix of a valid head needs more; never done early, never an error.</summary>
    [Theory]
    [MemberData(nameof(ValidRequests))]
    public void Request_EveryTruncatedPrefix_NeedsMore(string raw)
    {
        var bytes = Encoding.Latin1.GetBytes(raw);
        var head = new HttpHead();
        for (int n = 0; n < bytes.Length; n++)
        {
            var status = HttpParser.ParseRequest(bytes.AsSpan(0, n), head, BufSize, out var error);
            Assert.True(status == HttpParseStatus.NeedMore, $"prefix of {n} bytes: {status} {error}");
        }

        Assert.Equal(HttpParseStatus.Done, HttpParser.ParseRequest(bytes, head, BufSize, out _));
        Assert.Equal(bytes.Length, head.Length);
    }

    /// <summary>Bytes arriving in pieces of every size give the same head as all at once.</summary>
    [Theory]
    [MemberData(nameof(ValidRequests))]
    public void Request_ArrivingInSegments_SameResult(string raw)
    {
        var bytes = Encoding.Latin1.GetBytes(raw + "NEXT");
        var whole = new HttpHead();
        Assert.Equal(HttpParseStatus.Done, HttpParser.ParseRequest(bytes, whole, BufSize, out _));
        foreach (int segment in new[] { 1, 2, 3, 7, 64 })
        {
            var head = new HttpHead();
            var buffer = new List<byte>();
            var status = HttpParseStatus.NeedMore;
            for (int off = 0; off < bytes.Length && status == HttpParseStatus.NeedMore; off += segment)
            {
                buffer.AddRange(bytes.Skip(off).Take(segment));
                status = HttpParser.ParseRequest(buffer.ToArray(), head, BufSize, out _);
            }

            Assert.Equal(HttpParseStatus.Done, status);
            Assert.Equal(whole.Length, head.Length);
            Assert.Equal(whole.FieldCount, head.FieldCount);
            Assert.Equal(whole.Framing, head.Framing);
            Assert.True(whole.Fields.SequenceEqual(head.Fields));
        }
    }

    [Theory]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, 200, (int)BodyFraming.ContentLength)]
    [InlineData("HTTP/1.1 200 OK\r\n\r\n", false, 200, (int)BodyFraming.UntilClose)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", false, 200, (int)BodyFraming.Chunked)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 9\r\n\r\n", false, 200, (int)BodyFraming.Chunked)]
    [InlineData("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", false, 200, (int)BodyFraming.UntilClose)]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", true, 200, (int)BodyFraming.None)]
    [InlineData("HTTP/1.1 204 No Content\r\n\r\n", false, 204, (int)BodyFraming.None)]
    [InlineData("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", false, 304, (int)BodyFraming.None)]
    [InlineData("HTTP/1.1 100 Continue\r\n\r\n", false, 100, (int)BodyFraming.None)]
    [InlineData("HTTP/1.0 200\r\n\r\n", false, 200, (int)BodyFraming.UntilClose)]
    public void Response_StatusAndFraming(string raw, bool forHead, int status, int framing)
    {
        var head = new HttpHead();
        var result = HttpParser.ParseResponse(Encoding.Latin1.GetBytes(raw), head, BufSize, forHead, out var error);
        Assert.True(result == HttpParseStatus.Done, error);
        Assert.Equal(status, head.Status);
        Assert.Equal((BodyFraming)framing, head.Framing);
    }

    [Theory]
    [InlineData("HTTP/1.1 2000 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 20 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 099 Odd\r\n\r\n")]
    [InlineData("HTTX/1.1 200 OK\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n")]
    public void Response_Malformed_IsRefused(string raw)
    {
        var head = new HttpHead();
        Assert.Equal(HttpParseStatus.Error, HttpParser.ParseResponse(Encoding.Latin1.GetBytes(raw), head, BufSize, false, out _));
    }
}
