namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>
/// HAProxy 2.x's Reply class: txn:reply() and txn:done(reply) answering from http-request and
/// http-response actions, through a running halua. Expected bytes as HAProxy 2.6.12 sends them,
/// except where docs/lua-api.md says HaLua differs.
/// </summary>
public class LuaReplyTests
{
    private const string Script = """
        core.register_action("table", { "http-req" }, function(txn)
          local r = txn:reply{ status = 403, reason = "Nope", headers = { ["X-A"] = { "1", 2 }, ["x-b"] = "v" }, body = "denied!", other = 1 }
          -- The constructor copies what it knows, headers as lists, names as given.
          assert(r.status == 403 and r.reason == "Nope" and r.body == "denied!" and r.other == nil)
          assert(r.headers["X-A"][1] == "1" and r.headers["X-A"][2] == "2" and r.headers["x-b"][1] == "v")
          txn:done(r)
        end)
        core.register_action("empty", { "http-req" }, function(txn)
          local r = txn:reply()
          assert(r.status == 200 and r.reason == "OK" and next(r.headers) == nil and r.body == nil)
          txn:done(r)
        end)
        core.register_action("methods", { "http-req" }, function(txn)
          local r = txn:reply()
          r:set_status(201)
          assert(r.reason == "Created")
          r:add_header("x-c", "1")
          r:add_header("x-c", 2)
          r:add_header("X-D", "3")
          r:del_header("x-d") -- names are as given: this one is not there
          r:add_header("x-e", "4")
          r:del_header("x-e")
          r:set_body("hello")
          assert(r.headers["x-c"][2] == "2" and r.headers["X-D"][1] == "3" and r.headers["x-e"] == nil)
          for _, bad in ipairs({
            function() r:set_status("x") end, function() r:add_header("a", {}) end,
            function() r:add_header({}, "a") end, function() r:set_body({}) end,
          }) do
            local ok, e = pcall(bad)
            assert(not ok and e:find("^.-: Reply%.%a+_?%a*: bad argument #%d %(%a+ expected"), e)
          end
          txn:done(r)
        end)
        core.register_action("reason", { "http-req" }, function(txn)
          local r = txn:reply{ status = 302, headers = { location = { "/x" } } }
          r:set_status(404, "Gone Fishing")
          txn:done(r)
        end)
        core.register_action("framing", { "http-req" }, function(txn)
          txn:done{ status = 200, body = "x", headers = { ["content-length"] = { "10" }, ["Transfer-Encoding"] = { "chunked" } } }
        end)
        core.register_action("nocontent", { "http-req" }, function(txn)
          txn:done{ status = 204, body = "dropped" }
        end)
        core.register_action("badname", { "http-req" }, function(txn)
          txn:done{ status = 200, headers = { ["x-bad name"] = { "a" } } }
        end)
        core.register_action("badvalue", { "http-req" }, function(txn)
          txn:done{ status = 200, headers = { ["x-split"] = { "a\r\nx-injected: 1" } } }
        end)
        core.register_action("interim", { "http-req" }, function(txn)
          txn:done{ status = 103 }
        end)
        core.register_action("notatable", { "http-req" }, function(txn)
          txn:done("x")
        end)
        core.register_action("replace", { "http-res" }, function(txn)
          txn:done(txn:reply{ status = 503, body = "from res", headers = { ["content-type"] = { "text/plain" } } })
        end)
        core.register_action("tcpdone", { "tcp-req" }, function(txn)
          txn:done(txn:reply{ status = 403, body = "never sent" })
        end)
        """;

    private static string Config(int originPort, int tcpPort) => $$"""
        global
           lua-load reply.lua
        defaults
           timeout connect 1s
           timeout client 5s
           timeout server 5s
        frontend fe
           mode http
           bind 127.0.0.1:{PORT0}
           http-request set-var(txn.path) path
           http-request lua.table if { path /table }
           http-request lua.empty if { path /empty }
           http-request lua.methods if { path /methods }
           http-request lua.reason if { path /reason }
           http-request lua.framing if { path /framing }
           http-request lua.nocontent if { path /nocontent }
           http-request lua.badname if { path /badname }
           http-request lua.badvalue if { path /badvalue }
           http-request lua.interim if { path /interim }
           http-request lua.notatable if { path /notatable }
           http-request return status 200 content-type text/plain string fallthrough if !{ path /replace }
           http-response lua.replace if { var(txn.path) -m str /replace }
           default_backend be
        backend be
           mode http
           server o 127.0.0.1:{{originPort}}
        frontend tcp
           mode tcp
           bind 127.0.0.1:{PORT1}
           tcp-request inspect-delay 1s
           tcp-request content lua.tcpdone if { req.len gt 0 }
           default_backend tcpbe
        backend tcpbe
           mode tcp
           server t 127.0.0.1:{{tcpPort}}
        """;

    [Fact]
    public async Task TxnDoneReply_FromHttpActions_AnswersWithStatusHeadersAndBody()
    {
        await using var origin = new HttpOrigin(_ => Task.FromResult<byte[]?>(HttpOrigin.Ok("origin body", "Server: origin\r\n")));
        await using var tcp = new TestServer("tcp-server");
        await using var h = await HaluaProcess.StartAsync(Config(origin.Port, tcp.Port), new Dictionary<string, string> { ["reply.lua"] = Script });
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);

        // The reason given to txn:reply{} is kept (HAProxy 2.6 drops it: a bug); names are sent in lower case.
        var (status, head, body) = await c.AskAsync("/table");
        Assert.Equal((403, "denied!"), (status, body));
        Assert.StartsWith("HTTP/1.1 403 Nope\r\n", head, StringComparison.Ordinal);
        Assert.Contains("x-a: 1\r\nx-a: 2\r\n", head, StringComparison.Ordinal);
        Assert.Contains("x-b: v\r\n", head, StringComparison.Ordinal);
        Assert.Contains("content-length: 7\r\n", head, StringComparison.Ordinal);

        // An empty reply is an empty 200, and the connection goes on after each reply.
        (status, head, body) = await c.AskAsync("/empty");
        Assert.Equal("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", head);

        (status, head, body) = await c.AskAsync("/methods");
        Assert.Equal((201, "hello"), (status, body));
        Assert.StartsWith("HTTP/1.1 201 Created\r\n", head, StringComparison.Ordinal);
        Assert.Contains("x-c: 1\r\nx-c: 2\r\n", head, StringComparison.Ordinal);
        Assert.Contains("x-d: 3\r\n", head, StringComparison.Ordinal);
        Assert.DoesNotContain("x-e", head, StringComparison.Ordinal);

        (status, head, _) = await c.AskAsync("/reason");
        Assert.Equal("HTTP/1.1 404 Gone Fishing\r\nlocation: /x\r\ncontent-length: 0\r\n\r\n", head);

        // The body is framed by HaLua: the script's content-length and transfer-encoding are dropped.
        (status, head, body) = await c.AskAsync("/framing");
        Assert.Equal(("HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n", "x"), (head, body));

        (status, head, body) = await c.AskAsync("/nocontent");
        Assert.Equal(("HTTP/1.1 204 No Content\r\n\r\n", ""), (head, body));

        // A reply that is not valid HTTP is not sent: 500, as act.ERROR, and the reason is logged.
        (status, head, _) = await c.AskAsync("/badname");
        Assert.Equal(500, status);
        await h.WaitForStderrAsync("Lua function 'badname': txn:done: the reply cannot be sent: 'x-bad name' is not a valid header name.", TimeSpan.FromSeconds(5));
        using (var c2 = await RawHttpClient.ConnectAsync(h.Ports[0]))
        {
            (status, head, _) = await c2.AskAsync("/badvalue");
            Assert.Equal(500, status);
            Assert.DoesNotContain("injected", head, StringComparison.Ordinal);
        }

        using (var c3 = await RawHttpClient.ConnectAsync(h.Ports[0]))
        {
            Assert.Equal(500, (await c3.AskAsync("/interim")).Status);
        }

        // txn:done with something else than a table: no response, the connection closes (as txn:done()).
        using (var c4 = await RawHttpClient.ConnectAsync(h.Ports[0]))
        {
            await c4.SendAsync("GET /notatable HTTP/1.1\r\nHost: a\r\n\r\n");
            Assert.Equal(Array.Empty<byte>(), await c4.ReadToEndAsync());
        }

        // From an http-response action the reply replaces the server's response; the connection goes on.
        using var c5 = await RawHttpClient.ConnectAsync(h.Ports[0]);
        (status, head, body) = await c5.AskAsync("/replace");
        Assert.Equal((503, "from res"), (status, body));
        Assert.Equal("HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\ncontent-length: 8\r\n\r\n", head);
        Assert.Single(origin.Requests);
        (status, _, body) = await c5.AskAsync("/empty");
        Assert.Equal((200, ""), (status, body));

        // In TCP mode the reply is ignored: the stream ends with nothing sent (HAProxy 2.6).
        Assert.Equal("", await HaluaProcess.ExchangeAsync(h.Ports[1], "hello"));
        Assert.Equal(0, tcp.Connections);
    }
}
