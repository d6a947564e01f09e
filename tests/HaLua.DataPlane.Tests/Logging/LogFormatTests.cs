using System.Text;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Runtime;
using HaLua.DataPlane.Samples;
using HaLua.DataPlane.Tests.Samples;

namespace HaLua.DataPlane.Tests.Logging;

public class LogFormatTests
{
    private static readonly SampleRegistry Registry = SampleRegistry.CreateDefault();

    private static ProxyRuntime Frontend(ProxyMode mode = ProxyMode.Http)
        => new(new ProxyConfig("fe", ProxyCapabilities.Frontend, new SourceLocation("t.cfg", 1)) { Mode = mode }, 100);

    /// <summary>A finished HTTP transaction: GET /x?y=1 answered 200 by a server, 12 bytes out.</summary>
    private static StreamLog Served(string target = "/x?y=1", int status = 200)
    {
        var log = new StreamLog(Frontend(), http: true);
        log.Received(40);
        log.RequestHead("GET"u8, Encoding.Latin1.GetBytes(target), 11);
        log.ResponseHead(status);
        log.Sent(12);
        log.Finish();
        return log;
    }

    private static string Line(string format, StreamLog? log, ISampleContext? ctx = null, bool http = true)
    {
        var f = LogFormat.CompileLog(format, Registry, http);
        var b = new LogBuffer();
        f.Write(b, ctx ?? new TestSampleContext(), log);
        return b.ToString();
    }

    [Fact]
    public void HttpLog_DefaultFormat_HasHaproxyFields()
    {
        var log = new StreamLog(Frontend(), http: true);
        log.Received(40);
        log.RequestHead("GET"u8, "/x?y=1"u8, 11);
        log.Answered(403, 'P');
        log.Sent(12);
        log.Finish();

        string line = Line(LogFormat.HttpLog, log, new TestSampleContext { BackendName = null });

        Assert.Matches(@"^192\.0\.2\.10:40000 \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] fe fe/<NOSRV> \d+/-1/-1/-1/\d+ 403 12 - - PR-- \d+/0/0/0/0 0/0 ""GET /x\?y=1 HTTP/1\.1""$", line);
    }

    [Fact]
    public void TcpLog_DefaultFormat_HasHaproxyFields()
    {
        var log = new StreamLog(Frontend(ProxyMode.Tcp), http: false);
        log.Received(5);
        log.Sent(7);
        log.Terminate('C', 'D');
        log.Finish();

        string line = Line(LogFormat.TcpLog, log, http: false);

        // No server: Tw and Tc are -1 (a TCP Tw is one more than HAProxy's wait: its Tq is -1).
        Assert.Matches(@"^192\.0\.2\.10:40000 \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\.\d{3}\] fe be/<NOSRV> -1/-1/\d+ 7 CD \d+/0/0/0/0 0/0$", line);
    }

    [Fact]
    public void Separators_MergeSpaces_AndSkipVariablesWithoutOutput()
    {
        // %hr and %hs write nothing without captures: one space before the request, as in HAProxy.
        Assert.Equal(@"0/0 ""GET /x?y=1 HTTP/1.1""", Line("%sq/%bq   %hr %hs %{+Q}r", Served()));
        Assert.Equal("a b", Line(" a   b ", null).TrimEnd());
    }

    [Fact]
    public void MissingValues_DashInLogs_QuotesEmpty_NothingInRules()
    {
        Assert.Equal(@"X-Y """" - -", Line("X%[env(HALUA_NOPE)]Y %{+Q}[env(HALUA_NOPE)] %ID %CC", Served()));
        Assert.Equal("XY|", LogFormat.Compile("X%[env(HALUA_NOPE)]Y|%ID", Registry).Evaluate(new TestSampleContext()));
        Assert.Equal(@"""""", LogFormat.Compile("%{+Q}ID", Registry).Evaluate(new TestSampleContext()));
    }

    [Fact]
    public void Options_QuoteHexEscape_AsHaproxyWritesThem()
    {
        var log = Served(@"/a""b]c\d");
        // Q quotes text and addresses, not numbers, ports or the termination state.
        Assert.Equal(@"""192.0.2.10"" 40000 200 -- ""fe""", Line("%{+Q}ci %{+Q}cp %{+Q}ST %{+Q}ts %{+Q}f", log));
        // X: addresses and ports in hexadecimal, bare.
        Assert.Equal("C000020A 9C40", Line("%{+X}ci %{+X}cp", log));
        // E escapes '"', '\' and ']'; in the request '"' is already #22.
        Assert.Equal(@"/a#22b\]c\\d", Line("%{+E}HU", log));
        Assert.Equal(@"/a#22b]c\d", Line("%HU", log));
        // %{+Q}o sets the options of what follows; %{-Q} takes one back.
        Assert.Equal(@"""fe"" 192.0.2.10", Line("%{+Q}o %f %{-Q}ci", log));
    }

    [Fact]
    public void RequestParts_FromTheCapturedLine()
    {
        var log = Served("http://h.example/p/q?k=v&w");
        Assert.Equal("GET|http://h.example/p/q?k=v&w|http://h.example/p/q|/p/q|?k=v&w|HTTP/1.1", Line("%HM|%HU|%HP|%HPO|%HQ|%HV", log));
        Assert.Equal("<BADREQ>|<BADREQ>", Line("%HQ|%HV", new StreamLog(Frontend(), http: true)));
        Assert.Equal(@"""<BADREQ>""", Line("%{+Q}r", new StreamLog(Frontend(), http: true)));
    }

    [Fact]
    public void Timers_EventsThatDidNotHappenAreMinusOne()
    {
        var log = new StreamLog(Frontend(), http: true);
        log.Finish();
        Assert.Matches(@"^0 -1 -1 -1 -1 -1 -1 -1 \d+ \d+ -1$", Line("%Th %Ti %TR %Tq %Tw %Tc %Tr %Td %Ta %Tt %ST", log));
    }

    [Fact]
    public void Dates_HaproxyFormats()
    {
        var log = Served();
        Assert.Matches(@"^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}$", Line("%T", log));
        Assert.Matches(@"^\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}$", Line("%Tl", log));
        Assert.Matches(@"^\d{10} \d{3} [0-9A-F]{8}$", Line("%Ts %ms %{+X}Ts", log));
    }

    [Fact]
    public void RuleValues_KeepSpacesAndPercent()
    {
        var f = LogFormat.Compile("a  b 100%% %[fe_name]", Registry);
        Assert.Equal("a  b 100% fe", f.Evaluate(new TestSampleContext()));
        Assert.False(LogFormat.Compile("plain", Registry).UsesStreamLog);
        Assert.True(LogFormat.Compile("%ci", Registry).UsesStreamLog);
    }

    [Theory]
    [InlineData("%zz", "no such format variable 'zz'")]
    [InlineData("50% off", "unexpected variable name near ' '")]
    [InlineData("100%", "truncated line after '%'")]
    [InlineData("%{+Q} x", "parse argument modifier without variable name")]
    [InlineData("%[src", "missing ']'")]
    [InlineData("%[nosuch]", "unknown fetch method 'nosuch'")]
    [InlineData("%[req.hdr(host)]", "may not be used in a log line")]
    public void Compile_Errors_SayWhat(string format, string message)
    {
        var ex = Assert.Throws<FormatException>(() => LogFormat.CompileLog(format, Registry, http: true));
        Assert.Contains(message, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Compile_HttpVariableInTcpMode_IsRefused_RequestFetchInRuleIsFine()
    {
        var ex = Assert.Throws<FormatException>(() => LogFormat.CompileLog("%ci %r", Registry, http: false));
        Assert.Contains("format variable 'r' is reserved for HTTP mode", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(LogFormat.Compile("%[req.hdr(host)]", Registry));
    }

    [Fact]
    public void Expression_ClosingBracketInsideQuotesOrParentheses_DoesNotEndIt()
    {
        Assert.Equal("a]b", Line("%[str('a]b')]", null));
    }

    [Fact]
    public void Counters_RetriesWithRedispatchArePrefixed()
    {
        var log = Served();
        log.Retried(redispatch: false);
        log.Retried(redispatch: true);
        Assert.Equal("+2", Line("%rc", log));
    }

    [Fact]
    public void HttpLogLine_FormattedAndSentOverUdp_AllocatesNothing()
    {
        using var receiver = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        LogTarget[] targets = [new LogTarget(new LogTargetConfig(LogTargetKind.Udp, "rfc3164", "local0", null, receiver.Client.LocalEndPoint, new SourceLocation("t.cfg", 1)))];
        var format = LogFormat.CompileLog(LogFormat.HttpLog, Registry, http: true);
        var ctx = new TestSampleContext { Source = new System.Net.IPEndPoint(System.Net.IPAddress.Parse("::ffff:192.0.2.10"), 40000) };
        var log = Served();

        void Once()
        {
            var b = LogBuffer.Rent();
            format.Write(b, ctx, log);
            LogSink.Send(targets, 6, b.Written, "haproxy"u8);
            LogBuffer.Return(b);
        }

        Once();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            Once();
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        System.Net.IPEndPoint? from = null;
        Assert.Matches(@"^<134>.* haproxy\[\d+\]: 192\.0\.2\.10:40000 \[", Encoding.ASCII.GetString(receiver.Receive(ref from)));
    }
}
