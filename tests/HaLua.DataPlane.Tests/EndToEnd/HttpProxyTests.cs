using System.Diagnostics;
using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>mode http through a running halua: forwarding, keep-alive, bodies, errors, smuggling.</summary>
public class HttpProxyTests
{
    private static string Config(int originPort, string extra = "", string serverTimeout = "5s") => $$"""
        defaults
           mode http
           timeout connect 1s
           timeout client 3s
           timeout server {{serverTimeout}}
        frontend fe
           bind 127.0.0.1:{PORT0}
           default_backend be
        backend be
           {{extra}}
           server o 127.0.0.1:{{originPort}}
        """;

    [Fact]
    public async Task KeepAlive_ThreeRequestsOneClientConnection_OneServerConnection()
    {
        await using var origin = new HttpOrigin();
        await using var h = await HaluaProcess.StartAsync(Config(origin.Port));
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        for (int i = 0; i < 3; i++)
        {
            await c.SendAsync($"GET /r{i} HTTP/1.1\r\nHost: x\r\n\r\n");
            var (status, _, body) = await c.ReadResponseAsync();
            Assert.Equal(200, status);
            Assert.Equal($"path=/r{i} body=0", Encoding.ASCII.GetString(body));
        }

        Assert.Equal(3, origin.Requests.Count);
        Assert.Equal(1, origin.Connections);
        Assert.All(origin.Requests, r => Assert.StartsWith("GET /r", r.Head));
    }

    [Fact]
    public async Task Pipelined_Requests_AnsweredInOrder()
    {
        await using var origin = new HttpOrigin();
        await using var h = await HaluaProcess.StartAsync(Config(origin.Port));
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync(string.Concat(Enumerable.Range(0, 5).Select(i => $"GET /p{i} HTTP/1.1\r\nHost: x\r\n\r\n")));
        for (int i = 0; i < 5; i++)
        {
            var (_, _, body) = await c.ReadResponseAsync();
            Assert.Equal($"path=/p{i} body=0", Encoding.ASCII.GetString(body));
        }
    }

    [Fact]
    public async Task Bodies_ContentLengthAndChunked_ArriveIntact_BothWays()
    {
        var big = new byte[3 * 1024 * 1024];
        new Random(7).NextBytes(big);
        await using var origin = new HttpOrigin(async r =>
        {
            await Task.Yield();
            if (r.Head.StartsWith("GET /chunked", StringComparison.Ordinal))
            {
                // A chunked response with an extension and a trailer.
                return Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n");
            }

            // Echo the request body back with a content-length.
            return [.. Encoding.ASCII.GetBytes($"HTTP/1.1 200 OK\r\nContent-Length: {r.Body.Length}\r\n\r\n"), .. r.Body];
        });
        await using var h = await HaluaProcess.StartAsync(Config(origin.Port));
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);

        await c.SendAsync($"POST /cl HTTP/1.1\r\nHost: x\r\nContent-Length: {big.Length}\r\n\r\n");
        await c.SendAsync(big);
        var (_, _, echoed) = await c.ReadResponseAsync(timeout: TimeSpan.FromSeconds(20));
        Assert.True(big.AsSpan().SequenceEqual(echoed), "content-length body differs");

        var chunked = new StringBuilder("POST /te HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 1; i <= 20; i++)
        {
            chunked.Append($"{i:x}\r\n{new string((char)('a' + (i % 26)), i)}\r\n");
        }

        chunked.Append("0\r\n\r\n");
        await c.SendAsync(chunked.ToString());
        var (_, _, body2) = await c.ReadResponseAsync();
        Assert.Equal(210, body2.Length);

        await c.SendAsync("GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n");
        var (_, head3, body3) = await c.ReadResponseAsync();
        Assert.Contains("Transfer-Encoding: chunked", head3);
        Assert.Equal("hello world", Encoding.ASCII.GetString(body3));
        Assert.Equal(3, origin.Requests.Count);
        Assert.Equal(big.Length, origin.Requests.First().Body.Length);
    }

    [Fact]
    public async Task Head_ResponseHasNoBody_ConnectionGoesOn()
    {
        await using var origin = new HttpOrigin(r => Task.FromResult<byte[]?>(Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n")));
        await using var h = await HaluaProcess.StartAsync(Config(origin.Port));
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("HEAD / HTTP/1.1\r\nHost: x\r\n\r\n");
        var (status, head, _) = await c.ReadResponseAsync(noBody: true);
        Assert.Equal(200, status);
        Assert.Contains("Content-Length: 1234", head);
        await c.SendAsync("HEAD /again HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.Equal(200, (await c.ReadResponseAsync(noBody: true)).Status);
    }

    [Fact]
    public async Task ResponseUntilClose_ForwardedThenClientClosed()
    {
        await using var origin = new HttpOrigin(async r =>
        {
            await Task.Yield();
            return Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nall of it");
        });
        await using var h = await HaluaProcess.StartAsync(Config(origin.Port));
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");

        // The origin's handler returned: it closes after the response (null next time), so the body ends at its close.
        var all = await c.ReadToEndAsync();
        Assert.NotNull(all);
        Assert.EndsWith("\r\n\r\nall of it", Encoding.ASCII.GetString(all));
    }

    /// <summary>Request smuggling and malformed heads: 400 and the origin receives nothing at all.</summary>
    [Theory]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")]
    [InlineData("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\r\nX-A: b\r\n  folded\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nHost: x\rX-A: b\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n")]
    [InlineData("GET / HTTP/1.1\r\nBad\u0001Name: x\r\n\r\n")]
    [InlineData("GET /a b HTTP/1.1\r\nHost: x\r\n\r\n")]
    public async Task Smuggling_Refused_With400_NothingReachesTheOrigin(string raw)
    {
        await using var origin = new HttpOrigin();
        await using var h = await HaluaProcess.StartAsync(Config(origin.Port));
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync(raw);
        var (status, head, body) = await c.ReadResponseAsync();
        Assert.Equal(400, status);
        Assert.Contains("connection: close", head);
        Assert.Contains("400 Bad request", Encoding.ASCII.GetString(body));
        Assert.True(await c.IsClosedAsync(TimeSpan.FromSeconds(6)));
        await Task.Delay(100);
        Assert.Equal(0, origin.Connections);
        Assert.Empty(origin.Requests);
    }

    [Fact]
    public async Task OversizeHead_400_NothingForwarded()
    {
        await using var origin = new HttpOrigin();
        await using var h = await HaluaProcess.StartAsync(Config(origin.Port));
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + new string('a', 20000) + "\r\n\r\n");
        Assert.Equal(400, (await c.ReadResponseAsync()).Status);
        Assert.Equal(0, origin.Connections);
    }

    [Fact]
    public async Task BadChunkedBody_StreamCut_OriginNeverGetsACompleteRequest()
    {
        await using var origin = new HttpOrigin();
        await using var h = await HaluaProcess.StartAsync(Config(origin.Port));
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n\r\n");
        Assert.True(await c.IsClosedAsync(TimeSpan.FromSeconds(6)));
        await Task.Delay(100);
        Assert.Empty(origin.Requests);
    }

    [Fact]
    public async Task NoServer_503_InvalidResponse_502_Timeout_504()
    {
        await using var bad = new HttpOrigin(r => Task.FromResult<byte[]?>(Encoding.ASCII.GetBytes("HTTP/1.1 2x0 Nope\r\n\r\n")));
        await using var slow = new HttpOrigin(async r =>
        {
            await Task.Delay(3000);
            return HttpOrigin.Ok("late");
        });
        using var reserved = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        reserved.Bind(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0));
        int dead = ((System.Net.IPEndPoint)reserved.LocalEndPoint!).Port;
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               mode http
               timeout connect 500ms
               timeout client 5s
               timeout server 700ms
               retries 1
            frontend fe
               bind 127.0.0.1:{PORT0}
               acl to_bad dst_port {PORT1}
               acl to_slow dst_port {PORT2}
               bind 127.0.0.1:{PORT1}
               bind 127.0.0.1:{PORT2}
               use_backend be_bad if to_bad
               use_backend be_slow if to_slow
               default_backend be_dead
            backend be_dead
               server d 127.0.0.1:{{dead}}
            backend be_bad
               server b 127.0.0.1:{{bad.Port}}
            backend be_slow
               server s 127.0.0.1:{{slow.Port}}
            """);
        async Task<(int Status, string Body)> Get(int port)
        {
            using var c = await RawHttpClient.ConnectAsync(port);
            await c.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
            var (status, _, body) = await c.ReadResponseAsync();
            return (status, Encoding.ASCII.GetString(body));
        }

        var r503 = await Get(h.Ports[0]);
        Assert.Equal(503, r503.Status);
        Assert.Contains("No server is available", r503.Body);
        var r502 = await Get(h.Ports[1]);
        Assert.Equal(502, r502.Status);
        Assert.Contains("invalid or incomplete response", r502.Body);
        var sw = Stopwatch.StartNew();
        var r504 = await Get(h.Ports[2]);
        Assert.Equal(504, r504.Status);
        Assert.InRange(sw.Elapsed, TimeSpan.FromMilliseconds(600), TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task IncompleteRequest_TimeoutClient_408()
    {
        await using var origin = new HttpOrigin();
        await using var h = await HaluaProcess.StartAsync("""
            defaults
               mode http
               timeout connect 1s
               timeout client 500ms
               timeout server 5s
            listen px
               bind 127.0.0.1:{PORT0}
               server o 127.0.0.1:1
            """);
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("GET / HTTP/1.1\r\nHost: x\r\n");
        var (status, _, body) = await c.ReadResponseAsync(timeout: TimeSpan.FromSeconds(3));
        Assert.Equal(408, status);
        Assert.Contains("Request Time-out", Encoding.ASCII.GetString(body));
    }

    [Fact]
    public async Task Upgrade_101_BecomesATunnel()
    {
        await using var origin = new HttpOrigin(async r =>
        {
            await Task.Yield();
            return Encoding.ASCII.GetBytes("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nserver-speaks-first");
        });
        await using var h = await HaluaProcess.StartAsync(Config(origin.Port));
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n");
        var (status, _, _) = await c.ReadResponseAsync(noBody: true);
        Assert.Equal(101, status);
        var rest = await c.ReadToEndAsync();
        Assert.Equal("server-speaks-first", Encoding.ASCII.GetString(rest ?? []));
    }

    [Fact]
    public async Task ExpectContinue_HeadForwardedBeforeTheBody_100ThenFinalResponse()
    {
        // An origin that answers "100 Continue" to the head alone, then reads the body.
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var origin = Task.Run(async () =>
        {
            using var s = await listener.AcceptSocketAsync();
            var stream = new System.Net.Sockets.NetworkStream(s);
            var buffered = new List<byte>();
            var head = await HttpOrigin.ReadHeadAsync(stream, buffered);
            Assert.Contains("Expect: 100-continue", head);
            Assert.Empty(buffered);
            await stream.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray());
            var body = await HttpOrigin.ReadBodyAsync(stream, buffered, head!);
            await stream.WriteAsync(HttpOrigin.Ok("got " + Encoding.ASCII.GetString(body)));
            await Task.Delay(200);
        });
        await using var h = await HaluaProcess.StartAsync(Config(port));
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        var (interim, _, _) = await c.ReadResponseAsync(noBody: true, timeout: TimeSpan.FromSeconds(3));
        Assert.Equal(100, interim);
        await c.SendAsync("hello");
        var (status, _, answer) = await c.ReadResponseAsync();
        Assert.Equal(200, status);
        Assert.Equal("got hello", Encoding.ASCII.GetString(answer));
        await origin;
    }

    [Fact]
    public async Task Routing_ByHttpFetches_PathHostMethodQueryHeaders()
    {
        HttpOrigin Named(string name) => new(r => Task.FromResult<byte[]?>(HttpOrigin.Ok(name)));
        await using var api = Named("api");
        await using var admin = Named("admin");
        await using var post = Named("post");
        await using var two = Named("two");
        await using var q = Named("query");
        await using var dflt = Named("default");
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               mode http
               timeout connect 1s
               timeout client 3s
               timeout server 3s
            frontend fe
               bind 127.0.0.1:{PORT0}
               acl api path_beg /api/
               acl admin_host hdr(host) -i admin.example.com
               acl is_post method POST
               acl two_x hdr_cnt(x-a) eq 2
               acl debug query -m sub debug=1
               use_backend be_api if api
               use_backend be_admin if admin_host
               use_backend be_post if is_post
               use_backend be_two if two_x
               use_backend be_query if debug
               default_backend be_default
            backend be_api
               server s 127.0.0.1:{{api.Port}}
            backend be_admin
               server s 127.0.0.1:{{admin.Port}}
            backend be_post
               server s 127.0.0.1:{{post.Port}}
            backend be_two
               server s 127.0.0.1:{{two.Port}}
            backend be_query
               server s 127.0.0.1:{{q.Port}}
            backend be_default
               server s 127.0.0.1:{{dflt.Port}}
            """);
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        async Task<string> Ask(string raw)
        {
            await c.SendAsync(raw);
            return Encoding.ASCII.GetString((await c.ReadResponseAsync()).Body);
        }

        Assert.Equal("api", await Ask("GET /api/v1/users?x=1 HTTP/1.1\r\nHost: www.example.com\r\n\r\n"));
        Assert.Equal("api", await Ask("GET http://www.example.com/api/x HTTP/1.1\r\nHost: www.example.com\r\n\r\n"));
        Assert.Equal("admin", await Ask("GET / HTTP/1.1\r\nHost: ADMIN.example.com\r\n\r\n"));
        Assert.Equal("post", await Ask("POST /form HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"));
        Assert.Equal("two", await Ask("GET / HTTP/1.1\r\nHost: a\r\nX-A: 1, 2\r\n\r\n"));
        Assert.Equal("query", await Ask("GET /page?a=b&debug=1 HTTP/1.1\r\nHost: a\r\n\r\n"));
        Assert.Equal("default", await Ask("GET /apix HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\r\n"));
    }

    [Fact]
    public async Task HttpRequestRules_DenyReturnRedirectHeadersForwardFor()
    {
        await using var origin = new HttpOrigin(r => Task.FromResult<byte[]?>(HttpOrigin.Ok("seen")));
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               mode http
               timeout connect 1s
               timeout client 3s
               timeout server 3s
            frontend fe
               bind 127.0.0.1:{PORT0}
               option forwardfor
               http-request allow if { path_beg /open/ }
               http-request deny if { path_beg /secret }
               http-request deny deny_status 429 if { path_beg /slow }
               http-request return status 200 content-type text/plain string "pong 100%" if { path /ping }
               http-request return status 404 content-type text/plain lf-string "no %[path] here" if { path_beg /missing }
               http-request redirect location https://example.com/moved code 301 if { path /old }
               http-request redirect prefix https://new.example.com if { path_beg /legacy/ }
               http-request del-header X-Drop
               http-request set-header X-Path %[path]
               http-request add-header X-Multi one
               http-request add-header X-Multi two
               http-request set-header X-Replaced new
               default_backend be
            backend be
               http-request add-header X-Backend be
               server o 127.0.0.1:{{origin.Port}}
            """);
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        async Task<(int Status, string Head, string Body)> Ask(string path, string extra = "")
        {
            await c.SendAsync($"GET {path} HTTP/1.1\r\nHost: a\r\n{extra}\r\n");
            var (status, head, body) = await c.ReadResponseAsync();
            return (status, head, Encoding.ASCII.GetString(body));
        }

        var pong = await Ask("/ping");
        Assert.Equal((200, "pong 100%"), (pong.Status, pong.Body));
        Assert.Contains("content-type: text/plain", pong.Head);
        Assert.Equal((404, "no /missing/x here"), (await Ask("/missing/x")).ToTuple() is var t ? (t.Item1, t.Item3) : default);
        var moved = await Ask("/old");
        Assert.Equal(301, moved.Status);
        Assert.Contains("location: https://example.com/moved", moved.Head);
        var legacy = await Ask("/legacy/page?q=1");
        Assert.Equal(302, legacy.Status);
        Assert.Contains("location: https://new.example.com/legacy/page?q=1", legacy.Head);

        // Forwarded with the edits, on the same client connection.
        Assert.Equal("seen", (await Ask("/app/x", "X-Drop: 1\r\nX-Replaced: old\r\nX-Replaced: older\r\n")).Body);
        var got = origin.Requests.Last().Head;
        Assert.DoesNotContain("X-Drop", got);
        Assert.DoesNotContain("old", got);
        Assert.Contains("X-Path: /app/x\r\n", got);
        Assert.Contains("X-Multi: one\r\nX-Multi: two\r\n", got);
        Assert.Contains("X-Replaced: new\r\n", got);
        Assert.Contains("X-Backend: be\r\n", got);
        Assert.Contains("x-forwarded-for: 127.0.0.1\r\n", got);

        // allow stops the frontend's rules: no X-Path, but the backend's rules still run.
        Assert.Equal("seen", (await Ask("/open/door")).Body);
        got = origin.Requests.Last().Head;
        Assert.DoesNotContain("X-Path", got);
        Assert.Contains("X-Backend: be", got);

        var slow = await Ask("/slow");
        Assert.Equal(429, slow.Status);

        using var c2 = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c2.SendAsync("GET /secret/file HTTP/1.1\r\nHost: a\r\n\r\n");
        var (denied, _, page) = await c2.ReadResponseAsync();
        Assert.Equal(403, denied);
        Assert.Contains("Request forbidden by administrative rules.", Encoding.ASCII.GetString(page));
        Assert.True(await c2.IsClosedAsync(TimeSpan.FromSeconds(6)));
        Assert.Equal(2, origin.Requests.Count);
    }

    [Fact]
    public async Task HttpRequestRules_BadActionOrExpression_AreConfigErrorsWithLine()
    {
        var (code, _, stderr) = await HaluaProcess.CheckAsync("""
            defaults
               mode http
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request set-header X %[nosuchfetch]
               http-request tarpit
               http-request set-header X %H
               default_backend be
            backend be
               server s 127.0.0.1:80
            listen t
               mode tcp
               bind 127.0.0.1:{PORT1}
               http-request deny
               server s 127.0.0.1:80
            """);
        Assert.Equal(1, code);
        Assert.Contains("cfg:6", stderr);
        Assert.Contains("tarpit", stderr);

        // Without parse errors, the build reports the expression, log-format and mode errors.
        var (dir2, cfg2, _) = HaluaProcess.Prepare("""
            defaults
               mode http
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request set-header X %[nosuchfetch]
               http-request set-header Y %zz
               default_backend be
            backend be
               server s 127.0.0.1:80
            listen t
               mode tcp
               bind 127.0.0.1:{PORT1}
               http-request deny
               server s 127.0.0.1:80
            """);
        var (code2, _, stderr2) = await HaluaProcess.RunToEndAsync(dir2, "-c", "-f", cfg2);
        Assert.Equal(1, code2);
        Assert.Contains("cfg:5", stderr2);
        Assert.Contains("nosuchfetch", stderr2);
        Assert.Contains("cfg:6", stderr2);
        Assert.Contains("no such format variable 'zz'", stderr2);
        Assert.Contains("cfg:13", stderr2);
        Assert.Contains("need 'mode http'", stderr2);
    }

    [Fact]
    public async Task TimeoutHttpRequest_IsADeadline_TimeoutHttpKeepAlive_ClosesIdleConnections()
    {
        await using var origin = new HttpOrigin();
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               mode http
               timeout connect 1s
               timeout client 10s
               timeout server 5s
               timeout http-request 700ms
               timeout http-keep-alive 400ms
            listen px
               bind 127.0.0.1:{PORT0}
               server o 127.0.0.1:{{origin.Port}}
            """);

        // Slowloris: a header line every 100 ms keeps the connection busy but the request never
        // completes; the deadline answers 408 about 700 ms after the first byte.
        using (var slow = await RawHttpClient.ConnectAsync(h.Ports[0]))
        {
            var sw = Stopwatch.StartNew();
            await slow.SendAsync("GET / HTTP/1.1\r\n");
            var reading = slow.ReadResponseAsync(timeout: TimeSpan.FromSeconds(12));
            int sent = 0;
            for (; sent < 80 && !reading.IsCompleted; sent++)
            {
                int i = sent;
                await Task.Delay(100);
                try
                {
                    await slow.SendAsync($"X-{i}: v\r\n");
                }
                catch (IOException)
                {
                    break;
                }
            }

            var (status, _, _) = await reading;
            Assert.Equal(408, status);
            // A deadline: it fires while the client still sends (an idle timer would wait for it to stop, 8 s on).
            Assert.True(sent < 80, "the 408 came only after the client stopped sending");
            Assert.InRange(sw.Elapsed, TimeSpan.FromMilliseconds(600), TimeSpan.FromSeconds(7));
        }

        // Keep-alive: a request soon after the response is served; idle past 400 ms, closed.
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("GET /1 HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(200, (await c.ReadResponseAsync()).Status);
        await Task.Delay(150);
        await c.SendAsync("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n");
        Assert.Equal(200, (await c.ReadResponseAsync()).Status);
        Assert.True(await c.IsClosedAsync(TimeSpan.FromSeconds(6)), "idle keep-alive connection not closed");
    }

    [Fact]
    public async Task HttpResponseRules_HeadersStatusAndDeny_BackendThenFrontend()
    {
        await using var origin = new HttpOrigin(r =>
        {
            string path = r.Head.Split(' ')[1];
            return Task.FromResult<byte[]?>(path switch
            {
                "/secret" => HttpOrigin.Ok("leak", "X-Secret: yes\r\n"),
                "/missing" => Encoding.ASCII.GetBytes("HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope"),
                _ => HttpOrigin.Ok("body", "Server: origin/1.0\r\nX-Internal: 1\r\n"),
            });
        });
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               mode http
               timeout connect 1s
               timeout client 3s
               timeout server 3s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-response del-header X-Internal
               http-response set-header Server halua
               http-response add-header X-Order frontend
               http-response set-status 410 reason Gone-Away if { status 404 }
               default_backend be
            backend be
               http-response deny if { res.hdr(x-secret) -m found }
               http-response add-header X-Order backend
               server o 127.0.0.1:{{origin.Port}}
            """);
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("GET /page HTTP/1.1\r\nHost: a\r\n\r\n");
        var (status, head, body) = await c.ReadResponseAsync();
        Assert.Equal(200, status);
        Assert.Equal("body", Encoding.ASCII.GetString(body));
        Assert.DoesNotContain("X-Internal", head);
        Assert.Contains("Server: halua\r\n", head);
        Assert.DoesNotContain("origin/1.0", head);
        // The backend's rules ran first.
        Assert.True(head.IndexOf("X-Order: backend", StringComparison.Ordinal) is var bi and >= 0 && head.IndexOf("X-Order: frontend", StringComparison.Ordinal) > bi, head);

        await c.SendAsync("GET /missing HTTP/1.1\r\nHost: a\r\n\r\n");
        var (gone, goneHead, goneBody) = await c.ReadResponseAsync();
        Assert.Equal(410, gone);
        Assert.StartsWith("HTTP/1.1 410 Gone-Away\r\n", goneHead);
        Assert.Equal("nope", Encoding.ASCII.GetString(goneBody));

        await c.SendAsync("GET /secret HTTP/1.1\r\nHost: a\r\n\r\n");
        var (denied, _, page) = await c.ReadResponseAsync();
        Assert.Equal(502, denied);
        Assert.DoesNotContain("leak", Encoding.ASCII.GetString(page));
        Assert.True(await c.IsClosedAsync(TimeSpan.FromSeconds(6)));
    }

    [Fact]
    public async Task ConnectionModes_HttpServerClose_AndHttpClose()
    {
        await using var origin = new HttpOrigin();
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               mode http
               timeout connect 1s
               timeout client 3s
               timeout server 3s
            listen server_close
               bind 127.0.0.1:{PORT0}
               option http-server-close
               server o 127.0.0.1:{{origin.Port}}
            listen both_close
               bind 127.0.0.1:{PORT1}
               option httpclose
               server o 127.0.0.1:{{origin.Port}}
            """);

        // http-server-close: the client keeps its connection, each request gets a new server connection.
        using (var c = await RawHttpClient.ConnectAsync(h.Ports[0]))
        {
            for (int i = 0; i < 2; i++)
            {
                await c.SendAsync("GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n");
                Assert.Equal(200, (await c.ReadResponseAsync()).Status);
            }
        }

        Assert.Equal(2, origin.Connections);
        Assert.All(origin.Requests, r => Assert.Contains("connection: close\r\n", r.Head));
        Assert.All(origin.Requests, r => Assert.DoesNotContain("keep-alive", r.Head));

        // httpclose: the client is told and the connection ends after the response.
        using var c2 = await RawHttpClient.ConnectAsync(h.Ports[1]);
        await c2.SendAsync("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
        var (status, head, _) = await c2.ReadResponseAsync();
        Assert.Equal(200, status);
        Assert.Contains("connection: close\r\n", head);
        Assert.True(await c2.IsClosedAsync(TimeSpan.FromSeconds(6)));
    }

    [Fact]
    public async Task ModeMismatch_FrontendHttpBackendTcp_IsAConfigError()
    {
        var (code, _, stderr) = await HaluaProcess.CheckAsync("""
            frontend fe
               mode http
               bind 127.0.0.1:{PORT0}
               default_backend be
            backend be
               mode tcp
               server s 127.0.0.1:80
            """);
        Assert.Equal(1, code);
        Assert.Contains("cannot use backend 'be' (mode tcp)", stderr);
        Assert.Contains("cfg:4", stderr);
    }
}
