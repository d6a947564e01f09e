using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>http-request / http-response rewriting rules through a running halua, as the origin and the client see them.</summary>
public class HttpRewriteTests
{
    [Fact]
    public async Task RequestRewrites_ReachTheOrigin_AndLaterRulesSeeThem()
    {
        await using var origin = new HttpOrigin(_ => Task.FromResult<byte[]?>(HttpOrigin.Ok("seen")));
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               mode http
               timeout connect 1s
               timeout client 5s
               timeout server 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request replace-header x-r b(c) X\1
               http-request replace-value x-rv ^(.*)z$ <\1>
               http-request set-method PUT if { path /method }
               http-request set-path /new%[path] if { path_beg /p/ }
               http-request set-query a=%[req.hdr(x-q)] if { req.hdr(x-q) -m found }
               http-request set-uri /whole?x=1 if { path /uri }
               http-request set-header x-after %[method]:%[path]:%[query]
               http-request set-var(txn.host) req.hdr(host),lower
               http-request unset-var(txn.host) if { path /unset }
               http-request set-header x-var %[var(txn.host)]
               http-request set-header x-flag deny-me if { path /flagged }
               http-request deny if { req.hdr(x-flag) deny-me }
               default_backend be
            backend be
               server o 127.0.0.1:{{origin.Port}}
            """);
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);

        Assert.Equal(200, (await c.AskAsync("/h", "x-r: abc123\r\nx-rv: az, bz ,c\r\n")).Status);
        var got = origin.Requests.Last().Head;
        Assert.Contains("x-r: Xc\r\n", got);
        Assert.Contains("x-rv: <a>,<b>,c\r\n", got);
        Assert.Contains("x-var: example.com\r\n", got);

        await c.AskAsync("/method");
        Assert.StartsWith("PUT /method HTTP/1.1\r\n", origin.Requests.Last().Head);
        Assert.Contains("x-after: PUT:/method:\r\n", origin.Requests.Last().Head);

        await c.AskAsync("/p/x?keep=1");
        Assert.StartsWith("GET /new/p/x?keep=1 HTTP/1.1\r\n", origin.Requests.Last().Head);
        Assert.Contains("x-after: GET:/new/p/x:keep=1\r\n", origin.Requests.Last().Head);

        await c.AskAsync("/q?old=1", "x-q: b\r\n");
        Assert.StartsWith("GET /q?a=b HTTP/1.1\r\n", origin.Requests.Last().Head);

        await c.AskAsync("/uri?drop=1");
        Assert.StartsWith("GET /whole?x=1 HTTP/1.1\r\n", origin.Requests.Last().Head);

        await c.AskAsync("/unset");
        Assert.DoesNotContain("x-var:", origin.Requests.Last().Head.Replace("x-var: \r\n", "", StringComparison.Ordinal));

        int before = origin.Requests.Count;
        var denied = await c.AskAsync("/flagged");
        Assert.Equal(403, denied.Status);
        Assert.Equal(before, origin.Requests.Count);
    }

    [Fact]
    public async Task Redirects_SchemeDropQueryAppendSlash_AndReturnFile()
    {
        await using var h = await HaluaProcess.StartAsync("""
            defaults
               mode http
               timeout client 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request redirect scheme https code 301 if { path_beg /s }
               http-request redirect prefix https://x.example drop-query append-slash if { path_beg /d }
               http-request return status 200 content-type text/plain file page.txt if { path /file }
               http-request return status 200 content-type text/plain lf-file page.lf if { path /lf }
               http-request return status 404 content-type text/plain string nothing
            """, new Dictionary<string, string>
        {
            ["page.txt"] = "100% literal %[path]\n",
            ["page.lf"] = "at %[path]\n",
        });
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);

        var s = await c.AskAsync("/secure?x=1");
        Assert.Equal(301, s.Status);
        Assert.Contains("location: https://Example.COM/secure?x=1\r\n", s.Head);

        var d = await c.AskAsync("/dir?x=1");
        Assert.Equal(302, d.Status);
        Assert.Contains("location: https://x.example/dir/\r\n", d.Head);

        Assert.Equal("100% literal %[path]\n", (await c.AskAsync("/file")).Body);
        Assert.Equal("at /lf\n", (await c.AskAsync("/lf")).Body);
    }

    [Fact]
    public async Task RedirectCookies_AndDelHeaderMatchMethods_AsHaproxy26()
    {
        await using var origin = new HttpOrigin(_ => Task.FromResult<byte[]?>(HttpOrigin.Ok("seen")));
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               mode http
               timeout connect 1s
               timeout client 5s
               timeout server 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request redirect location /a set-cookie SID=abc if { path /s }
               http-request redirect location /a clear-cookie SID= if { path /c }
               http-request redirect location /a code 303 set-cookie SID if { path /n }
               http-request del-header X-A -m beg
               http-request del-header ^x-r.*$ -m reg
               http-request del-header ZZ -m sub
               http-request del-header -Tail -m end
               http-request del-header Exact -m str
               default_backend be
            backend be
               server o 127.0.0.1:{{origin.Port}}
            """);
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        // The Set-Cookie values haproxy 2.6 sends for the same rules.
        Assert.Contains("set-cookie: SID=abc; path=/;\r\n", (await c.AskAsync("/s")).Head);
        Assert.Contains("set-cookie: SID=; path=/; Max-Age=0;\r\n", (await c.AskAsync("/c")).Head);
        var n = await c.AskAsync("/n");
        Assert.Equal(303, n.Status);
        Assert.Contains("set-cookie: SID; path=/;\r\n", n.Head);

        await c.AskAsync("/x", "x-abc: 1\r\nX-Aq: 2\r\nxa: 3\r\nX-Rr: 4\r\nx-RX: 5\r\naZzb: 6\r\nazb: 7\r\nmy-tail: 8\r\nEXACT: 9\r\nexactly: 10\r\n");
        var got = origin.Requests.Last().Head;
        foreach (var gone in new[] { "x-abc", "X-Aq", "X-Rr", "x-RX", "aZzb", "my-tail", "EXACT:" })
        {
            Assert.DoesNotContain(gone, got);
        }

        foreach (var kept in new[] { "xa: 3", "azb: 7", "exactly: 10" })
        {
            Assert.Contains(kept, got);
        }
    }

    [Fact]
    public async Task ReturnFile_Missing_IsAConfigErrorWithFileAndLine()
    {
        var (code, _, stderr) = await HaluaProcess.CheckAsync("""
            defaults
               mode http
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request return status 200 content-type text/plain file /nonexistent/page.txt
               http-request set-var(nope) str(x)
               http-request replace-header x ( y
            """);
        Assert.Equal(1, code);
        Assert.Contains("haproxy.cfg:5", stderr);
        Assert.Contains("cannot read '/nonexistent/page.txt'", stderr);
        Assert.Contains("haproxy.cfg:6", stderr);
        Assert.Contains("invalid variable name 'nope'", stderr);
        Assert.Contains("haproxy.cfg:7", stderr);
        Assert.Contains("invalid regex", stderr);
    }

    [Fact]
    public async Task ResponseRewrites_ReplaceHeaderAndVariables_AndAFailedRewriteGives500()
    {
        await using var origin = new HttpOrigin(_ => Task.FromResult<byte[]?>(HttpOrigin.Ok("body", "Server: nginx/1.2\r\nX-List: az, b\r\n")));
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               mode http
               timeout connect 1s
               timeout client 5s
               timeout server 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request set-var(txn.path) path
               http-request set-header x-bad %[req.hdr(x-in),url_dec] if { req.hdr(x-in) -m found }
               http-response replace-header Server ^nginx/(.*)$ hidden-\1
               http-response replace-value x-list ^(.*)z$ \1
               http-response set-header x-path %[var(txn.path)]
               http-response set-header x-method %[method]
               http-response set-header x-req-path yes if { path /x }
               http-response set-status 299 reason Fine if { var(txn.path) /status }
               default_backend be
            backend be
               server o 127.0.0.1:{{origin.Port}}
            """);
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        var r = await c.AskAsync("/x");
        Assert.Equal(200, r.Status);
        Assert.Contains("Server: hidden-1.2\r\n", r.Head);
        Assert.Contains("X-List: a,b\r\n", r.Head);
        Assert.Contains("x-path: /x\r\n", r.Head);

        // Request fetches in response rules read the request's head (HAProxy keeps the method;
        // HaLua keeps the whole head, where HAProxy warns that path "will never match").
        Assert.Contains("x-method: GET\r\n", r.Head);
        Assert.Contains("x-req-path: yes\r\n", r.Head);
        Assert.Equal("body", r.Body);

        var st = await c.AskAsync("/status");
        Assert.Equal(299, st.Status);
        Assert.StartsWith("HTTP/1.1 299 Fine\r\n", st.Head);

        // A value with CR LF cannot be written into a head: HAProxy's failed rewrite, 500, nothing forwarded.
        int before = origin.Requests.Count;
        var bad = await c.AskAsync("/inject", "x-in: a%0d%0aInjected: 1\r\n");
        Assert.Equal(500, bad.Status);
        Assert.Equal(before, origin.Requests.Count);
    }

    [Fact]
    public async Task DynamicUseBackend_NameFromTheRequest_UnknownNameGoesToDefaultBackend()
    {
        await using var h = await HaluaProcess.StartAsync("""
            defaults
               mode http
               timeout client 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               use_backend be_%[req.hdr(x-be),lower] if { req.hdr(x-be) -m found }
               use_backend be_b if { path /b }
               default_backend be_def
            backend be_a
               http-request return status 200 content-type text/plain string a
            backend be_b
               http-request return status 200 content-type text/plain string b
            backend be_def
               http-request return status 200 content-type text/plain string def
            """);
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        Assert.Equal("a", (await c.AskAsync("/", "x-be: A\r\n")).Body);
        Assert.Equal("b", (await c.AskAsync("/b")).Body);

        // As HAProxy 2.6: a name that is no backend goes to default_backend, not to the next rule.
        Assert.Equal("def", (await c.AskAsync("/b", "x-be: zzz\r\n")).Body);
        Assert.Equal("def", (await c.AskAsync("/")).Body);
    }

    [Fact]
    public async Task BufferRequest_ReqBodyInRules_ContentLengthChunkedAndExpectContinue()
    {
        await using var origin = new HttpOrigin();
        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               mode http
               timeout connect 1s
               timeout client 5s
               timeout server 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               option http-buffer-request
               http-request deny if { req.body -m sub secret }
               http-request return status 200 content-type text/plain lf-string "[%[req.body]] %[req.body_len] %[req.len]" if { path /echo }
               default_backend be
            backend be
               server o 127.0.0.1:{{origin.Port}}
            """);
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);

        // The body arrives in two parts: the rules wait for all of it.
        await c.SendAsync("POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello");
        await Task.Delay(100);
        await c.SendAsync(" world");
        var (status, _, body) = await c.ReadResponseAsync();
        Assert.Equal((200, "[hello world] 11 11"), (status, Encoding.ASCII.GetString(body)));

        await c.SendAsync("POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
        await Task.Delay(100);
        await c.SendAsync("3\r\n!!!\r\n0\r\n\r\n");
        (status, _, body) = await c.ReadResponseAsync();
        Assert.Equal((200, "[hello!!!] 8 8"), (status, Encoding.ASCII.GetString(body)));

        // A body matching the rule is refused; others reach the origin intact.
        await c.SendAsync("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nmy secret!");
        Assert.Equal(403, (await c.ReadResponseAsync()).Status);
        using var c2 = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c2.SendAsync("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
        var (interim, _, _) = await c2.ReadResponseAsync(noBody: true);
        Assert.Equal(100, interim);
        await c2.SendAsync("fine!");
        var final = await c2.ReadResponseAsync();
        while (final.Status == 100)
        {
            final = await c2.ReadResponseAsync();
        }

        Assert.Equal(200, final.Status);
        Assert.Equal("fine!", Encoding.ASCII.GetString(origin.Requests.Last().Body));
    }
}
