using System.Text;
using BenchmarkDotNet.Attributes;
using HaLua.DataPlane.Http;

namespace HaLua.Benchmarks;

/// <summary>HTTP/1.1 head parsing: a small request as wrk sends it, a browser-like one, a response, a chunked body.</summary>
[MemoryDiagnoser]
public class HttpParserBenchmarks
{
    private readonly byte[] _wrk = Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n");
    private readonly byte[] _browser = Encoding.ASCII.GetBytes(
        "GET /static/app.js?v=123 HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36\r\n" +
        "Accept: */*\r\nAccept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\nCookie: session=abcdef0123456789; theme=dark\r\n" +
        "Referer: https://www.example.com/\r\nConnection: keep-alive\r\n\r\n");
    private readonly byte[] _response = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\nContent-Length: 612\r\nConnection: keep-alive\r\n\r\n");
    private readonly byte[] _chunked = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("400\r\n" + new string('x', 1024) + "\r\n", 16)) + "0\r\n\r\n");
    private readonly HttpHead _head = new();
    private readonly ChunkedDecoder _decoder = new();

    [Benchmark]
    public int WrkRequest() => HttpParser.ParseRequest(_wrk, _head, 16384, out _) == HttpParseStatus.Done ? _head.Length : -1;

    [Benchmark]
    public int BrowserRequest() => HttpParser.ParseRequest(_browser, _head, 16384, out _) == HttpParseStatus.Done ? _head.Length : -1;

    [Benchmark]
    public int Response() => HttpParser.ParseResponse(_response, _head, 16384, false, out _) == HttpParseStatus.Done ? _head.Length : -1;

    [Benchmark]
    public long ChunkedBody16K()
    {
        _decoder.Reset();
        _decoder.Consume(_chunked, out _);
        return _decoder.PayloadLength;
    }
}
