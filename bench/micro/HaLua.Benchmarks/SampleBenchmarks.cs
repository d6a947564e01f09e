using System.Collections.Immutable;
using System.Net;
using System.Text;
using BenchmarkDotNet.Attributes;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Http;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Samples;

namespace HaLua.Benchmarks;

/// <summary>
/// The sample-expression evaluator on a parsed request: a fetch, a fetch with converters, ACLs of
/// several match methods, and a log-format string (what set-header and return evaluate).
/// </summary>
[MemoryDiagnoser]
public class SampleBenchmarks
{
    private readonly BenchRequest _ctx = new("GET /api/v1/users?id=42 HTTP/1.1\r\nHost: WWW.Example.com\r\nUser-Agent: wrk\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2\r\n\r\n");
    private readonly SampleRegistry _registry = SampleRegistry.CreateDefault();
    private SampleExpression _path = null!;
    private SampleExpression _hostLower = null!;
    private SampleExpression _hdrOccurrence = null!;
    private Acl _pathBeg = null!;
    private Acl _hostStrI = null!;
    private Acl _srcIp = null!;
    private LogFormat _format = null!;

    [GlobalSetup]
    public void Setup()
    {
        _path = SampleExpression.Parse("path", _registry);
        _hostLower = SampleExpression.Parse("req.hdr(host),lower", _registry);
        _hdrOccurrence = SampleExpression.Parse("req.hdr(x-forwarded-for,-1)", _registry);
        _pathBeg = Acl.Compile(new AclConfig("a", "path_beg", [], ["/static", "/api"], default), _registry);
        _hostStrI = Acl.Compile(new AclConfig("b", "req.hdr(host)", ["-i"], ["www.example.com", "example.com"], default), _registry);
        _srcIp = Acl.Compile(new AclConfig("c", "src", [], ["10.0.0.0/8", "192.0.2.0/24"], default), _registry);
        _format = LogFormat.Compile("%[req.hdr(host),lower]%[path]?%[query]", _registry);
    }

    [Benchmark]
    public bool FetchPath() => _path.TryEvaluate(_ctx, out _);

    [Benchmark]
    public bool FetchHeaderLower() => _hostLower.TryEvaluate(_ctx, out _);

    [Benchmark]
    public bool FetchHeaderLastOccurrence() => _hdrOccurrence.TryEvaluate(_ctx, out _);

    [Benchmark]
    public bool AclPathBeg() => _pathBeg.Matches(_ctx);

    [Benchmark]
    public bool AclHostStrIgnoreCase() => _hostStrI.Matches(_ctx);

    [Benchmark]
    public bool AclSrcIp() => _srcIp.Matches(_ctx);

    [Benchmark]
    public string LogFormatThreeSamples() => _format.Evaluate(_ctx);

    /// <summary>A parsed request as an HTTP stream exposes it to fetches.</summary>
    private sealed class BenchRequest : ISampleContext, IHttpRequestView
    {
        private readonly byte[] _bytes;
        private readonly HttpHead _head = new();

        public BenchRequest(string raw)
        {
            _bytes = Encoding.ASCII.GetBytes(raw);
            HttpParser.ParseRequest(_bytes, _head, 16384, out _);
        }

        public IPEndPoint? Source { get; } = new(IPAddress.Parse("192.0.2.10"), 40000);

        public IPEndPoint? Destination { get; } = new(IPAddress.Parse("198.51.100.1"), 80);

        public string FrontendName => "fe";

        public string? BackendName => "be";

        public string? ServerName => null;

        public ReadOnlySpan<byte> RequestContent => default;

        public int UsableServers(string backend) => 1;

        public ReadOnlySpan<byte> Method => _bytes.AsSpan()[_head.Method];

        public ReadOnlySpan<byte> Target => _bytes.AsSpan()[_head.Target];

        public int Version => _head.Version;

        public HttpHeaderView Headers => new(_head, _bytes);
    }
}
