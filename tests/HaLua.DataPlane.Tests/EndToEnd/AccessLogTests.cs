using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>Access logs through a running halua, received as HAProxy sends them: syslog over UDP.</summary>
public class AccessLogTests
{
    /// <summary>HAProxy 2.6's rfc3164 header: priority, local date, "haproxy[pid]: ", no host name.</summary>
    private const string Header = @"^<134>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d haproxy\[\d+\]: ";

    private const string Date = @"\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d\.\d{3}";

    private static string HttpConfig(int syslogPort, int originPort, string frontend = "", string extra = "") => $$"""
        global
           log 127.0.0.1:{{syslogPort}} local0
        defaults
           mode http
           log global
           option httplog
           timeout connect 500ms
           timeout client 3s
           timeout server 800ms
        frontend fe
           bind 127.0.0.1:{PORT0}
           {{frontend}}
           default_backend be
        backend be
           server o 127.0.0.1:{{originPort}}
        backend empty
        backend dead
           retries 1
           server d 127.0.0.1:{{HaluaProcess.FreePort()}}
        {{extra}}
        """;

    [Fact]
    public async Task HttpLog_DefaultFormat_OneLinePerTransaction()
    {
        using var syslog = new SyslogReceiver();
        await using var origin = new HttpOrigin();
        await using var h = await HaluaProcess.StartAsync(HttpConfig(syslog.Port, origin.Port));
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("GET /hello?x=1 HTTP/1.1\r\nHost: x\r\n\r\n");
        var (_, _, body) = await c.ReadResponseAsync();
        await c.SendAsync("POST /second HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
        await c.ReadResponseAsync();

        // Timers TR/Tw/Tc/Tr/Ta, status, bytes to the client, no cookies, "----", ac/fc/bc/sc/rc, queues, request.
        string first = await syslog.NextAsync();
        Assert.Matches(Header + $@"127\.0\.0\.1:\d+ \[{Date}\] fe be/o \d+/\d+/\d+/\d+/\d+ 200 \d+ - - ---- \d+/1/0/0/0 0/0 ""GET /hello\?x=1 HTTP/1\.1""\n$", first);
        int bytes = int.Parse(Regex.Match(first, @" 200 (\d+) ").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(bytes > body.Length, $"%B counts the head too: {bytes}");

        string second = await syslog.NextAsync();
        Assert.Matches(@" 200 \d+ - - ---- .* ""POST /second HTTP/1\.1""\n$", second);
        var timers = Regex.Match(second, @"\] fe be/o (\d+)/(\d+)/(\d+)/(\d+)/(\d+) ").Groups;
        long ta = long.Parse(timers[5].Value, System.Globalization.CultureInfo.InvariantCulture);
        long sum = Enumerable.Range(1, 4).Sum(i => long.Parse(timers[i].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(ta >= sum, $"Ta includes TR+Tw+Tc+Tr: {second}");
    }

    [Fact]
    public async Task TcpLog_DefaultFormat_LineWhenTheStreamEnds()
    {
        using var syslog = new SyslogReceiver();
        await using var server = new TestServer("tcp-server");
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               log 127.0.0.1:{{syslog.Port}} local0
            defaults
               mode tcp
               timeout connect 500ms
               timeout client 3s
               timeout server 3s
            frontend ft
               bind 127.0.0.1:{PORT0}
               log global
               option tcplog
               default_backend bt
            backend bt
               server s1 127.0.0.1:{{server.Port}}
            """);

        Assert.Equal("tcp-server", await HaluaProcess.ExchangeAsync(h.Ports[0], "ping"));

        // Tw/Tc/Tt, bytes to the client (the server's 10), "--", ac/fc/bc/sc/rc, queues.
        Assert.Matches(Header + $@"127\.0\.0\.1:\d+ \[{Date}\] ft bt/s1 \d+/\d+/\d+ 10 -- \d+/1/0/0/0 0/0\n$", await syslog.NextAsync());
    }

    [Fact]
    public async Task CustomLogFormat_ExpressionQuotedRequestAndStdoutRaw()
    {
        using var syslog = new SyslogReceiver();
        await using var origin = new HttpOrigin();
        await using var h = await HaluaProcess.StartAsync(HttpConfig(syslog.Port, origin.Port, frontend: """
            log stdout format raw local0
               log-format "%{+Q}r %[fe_name,upper] %HM %HP %HQ %ST %{+Q}ID %U/%B %rc %[var(txn.host)]"
               http-request set-var(txn.host) req.hdr(host)
            """));
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("GET /a%22b?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n");
        await c.ReadResponseAsync();

        // A request header reaches the line through a variable, as in HAProxy.
        string expected = @"""GET /a%22b\?q=1 HTTP/1\.1"" FE GET /a%22b \?q=1 200 """" \d+/\d+ 0 example\.com";
        Assert.Matches(Header + expected + "\n$", await syslog.NextAsync());
        await WaitUntilAsync(() => Regex.IsMatch(h.Stdout, "^" + expected + "\r?$", RegexOptions.Multiline), h);
    }

    [Fact]
    public async Task Errors_LoggedWithHaproxyTerminationStates()
    {
        using var syslog = new SyslogReceiver();
        await using var origin = new HttpOrigin(async r =>
        {
            if (r.Head.StartsWith("GET /slow", StringComparison.Ordinal))
            {
                await Task.Delay(3000);
            }

            return HttpOrigin.Ok("ok");
        });
        await using var h = await HaluaProcess.StartAsync(HttpConfig(syslog.Port, origin.Port, frontend: """
            timeout http-request 500ms
               use_backend empty if { path /nosrv }
               use_backend dead if { path /dead }
               http-request deny if { path /deny }
            """));

        async Task<string> Request(string path)
        {
            using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
            await c.SendAsync($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
            await c.ReadResponseAsync();
            return await syslog.NextAsync();
        }

        // No server in the backend: 503, "SC", no server name; a server that refuses: "SC" after a retry.
        Assert.Matches(@"\] fe empty/<NOSRV> \d+/-1/-1/-1/\d+ 503 \d+ - - SC-- \d+/\d+/0/0/0 0/0 ""GET /nosrv HTTP/1\.1""", await Request("/nosrv"));
        Assert.Matches(@"\] fe dead/d \d+/\d+/-1/-1/\d+ 503 \d+ - - SC-- \d+/\d+/0/0/1 0/0 ", await Request("/dead"));
        // Denied by a rule: "PR", the frontend as backend.
        Assert.Matches(@"\] fe fe/<NOSRV> \d+/-1/-1/-1/\d+ 403 \d+ - - PR-- ", await Request("/deny"));
        // The server does not answer within timeout server: 504 "sH".
        Assert.Matches(@"\] fe be/o \d+/\d+/\d+/-1/\d+ 504 \d+ - - sH-- ", await Request("/slow"));

        // A malformed request: 400 "PR"; a client that stops sending: 408 "cR" after timeout http-request.
        using (var bad = await RawHttpClient.ConnectAsync(h.Ports[0]))
        {
            await bad.SendAsync("GET / HTTP/1.1\r\nBad Header\r\n\r\n");
            Assert.Matches(@"\] fe fe/<NOSRV> -1/-1/-1/-1/\d+ 400 \d+ - - PR-- .* ""<BADREQ>""\n$", await syslog.NextAsync());
        }

        using (var slow = await RawHttpClient.ConnectAsync(h.Ports[0]))
        {
            await slow.SendAsync("GET / HTTP/1.1\r\n");
            Assert.Matches(@"\] fe fe/<NOSRV> -1/-1/-1/-1/\d+ 408 \d+ - - cR-- .* ""<BADREQ>""\n$", await syslog.NextAsync());
        }
    }

    [Fact]
    public async Task DontLogNull_SetLogLevel_SilentAndLevels()
    {
        using var syslog = new SyslogReceiver();
        await using var origin = new HttpOrigin(r => Task.FromResult<byte[]?>(HttpOrigin.Ok("ok", r.Head.Contains("/quiet-response", StringComparison.Ordinal) ? "X-Quiet: 1\r\n" : "")));
        await using var server = new TestServer("tcp-server");
        await using var h = await HaluaProcess.StartAsync(HttpConfig(syslog.Port, origin.Port, frontend: $$"""
            option dontlognull
               http-request set-log-level silent if { path /silent }
               http-request set-log-level err if { path /err }
               http-response set-log-level silent if { res.hdr(x-quiet) -m found }
            """, extra: $$"""
            listen tcp
               mode tcp
               bind 127.0.0.1:{PORT1}
               option tcplog
               tcp-request content set-log-level silent if { src 127.0.0.1 }
               server s1 127.0.0.1:{{server.Port}}
            """));

        // A connection that sends nothing is not logged with dontlognull.
        using (var empty = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await empty.ConnectAsync(IPAddress.Loopback, h.Ports[0]);
        }

        await HaluaProcess.ExchangeAsync(h.Ports[1], "ping");
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        foreach (var path in new[] { "/silent", "/quiet-response", "/err", "/shown" })
        {
            await c.SendAsync($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n");
            await c.ReadResponseAsync();
        }

        // err (3) in facility local0 (16): priority 131; then the next transaction at info again.
        Assert.Matches(@"^<131>.* ""GET /err HTTP/1\.1""\n$", await syslog.NextAsync());
        Assert.Matches(@"^<134>.* ""GET /shown HTTP/1\.1""\n$", await syslog.NextAsync());
        await Task.Delay(300);
        Assert.True(syslog.IsEmpty, "no line for the empty connection, the silenced transactions and the silenced TCP stream");
    }

    private static async Task WaitUntilAsync(Func<bool> condition, HaluaProcess h)
    {
        for (int i = 0; i < 100 && !condition(); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(condition(), $"stdout: {h.Stdout}");
    }
}
