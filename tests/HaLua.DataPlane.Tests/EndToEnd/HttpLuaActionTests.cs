using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>Lua http-req / http-res actions with TXN and the HTTP class, through a running halua.</summary>
public class HttpLuaActionTests
{
    private const string Script = """
        local function count(t) local n = 0 for _ in pairs(t or {}) do n = n + 1 end return n end

        core.register_action("rewrite", { "http-req" }, function(txn, tag)
          local h = txn.http:req_get_headers()
          txn.http:req_set_header("x-tag", tag)
          txn.http:req_add_header("x-count", tostring(count(h["x-multi"])) .. "," .. h["x-multi"][0] .. "," .. h["x-multi"][1])
          txn.http:req_del_header("X-Drop")
          txn.http:req_rep_header("x-r", "b(c)", "X\\1")
          txn.http:req_rep_value("x-rv", "^(.*)z$", "<\\1>")
          txn.http:req_set_path("/lua" .. txn.f:path())
          txn.http:req_set_query("q=" .. txn.sf:req_hdr("x-q"))
          txn:set_var("txn.from_lua", "yes")
          txn:set_priv("priv-data")
          -- Each call gets a fresh TXN: a field a script stored before is gone.
          txn.http:req_set_header("x-fresh", tostring(txn.seen))
          txn.seen = true
        end, 1)
        core.register_action("uri", { "http-req" }, function(txn) txn.http:req_set_uri("/u?v=2") txn.http:req_set_method("PUT") end)
        core.register_action("fails", { "http-req" }, function(txn)
          txn.http:req_set_header("x-before-error", "1")
          error("boom in action")
        end)
        core.register_action("channel", { "http-req" }, function(txn) return txn.req:get_in_len() end)
        core.register_action("wrongside", { "http-req" }, function(txn) return txn.http:res_get_headers() end)
        core.register_action("done", { "http-req" }, function(txn) txn:done() end)
        core.register_action("resp", { "http-res" }, function(txn)
          local h = txn.http:res_get_headers()
          txn.http:res_set_status(201, "Made")
          txn.http:res_add_header("x-origin-server", h["server"][0])
          txn.http:res_set_header("x-priv", tostring(txn:get_priv()))
          txn.http:res_set_header("x-status-fetch", tostring(txn.f:status()))
          txn.http:res_del_header("server")
          txn.http:res_rep_header("x-list", "^a(z)(.*)$", "\\2\\1")
          txn.http:res_rep_value("x-vals", "^(.)z$", "\\1")
        end)
        core.register_service("svc", "http", function(applet)
          local body = tostring(applet:get_priv()) .. " " .. applet.headers["x-tag"][0] .. " " .. applet.path
          applet:set_status(200)
          applet:add_header("content-length", #body)
          applet:start_response()
          applet:send(body)
        end)
        """;

    [Fact]
    public async Task HttpActions_RewriteBothHeads_ErrorsLetTheRulesGoOn()
    {
        await using var origin = new HttpOrigin(_ => Task.FromResult<byte[]?>(HttpOrigin.Ok("ok", "Server: origin/1\r\nX-List: azb\r\nX-Vals: az, bz\r\n")));
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               lua-load actions.lua
            defaults
               mode http
               timeout connect 1s
               timeout client 5s
               timeout server 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request lua.rewrite hello
               http-request lua.fails
               http-request set-header x-after-error %[var(txn.from_lua)]
               http-request lua.channel
               http-request lua.wrongside
               http-request lua.uri if { path /lua/u }
               http-request lua.done if { path /lua/done }
               http-request use-service lua.svc if { path /lua/svc }
               http-response lua.resp
               default_backend be
            backend be
               server o 127.0.0.1:{{origin.Port}}
            """, new Dictionary<string, string> { ["actions.lua"] = Script });
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("GET /x?old=1 HTTP/1.1\r\nHost: a\r\nX-Multi: one\r\nX-Drop: 1\r\nx-multi: two\r\nx-r: abc\r\nx-rv: az, bz\r\nx-q: 7\r\n\r\n");
        var (status, head, body) = await c.ReadResponseAsync();

        // The request as the origin got it.
        var got = origin.Requests.Last().Head;
        Assert.StartsWith("GET /lua/x?q=7 HTTP/1.1\r\n", got);
        Assert.Contains("x-tag: hello\r\n", got);
        Assert.Contains("x-count: 2,one,two\r\n", got);
        Assert.DoesNotContain("X-Drop", got);
        Assert.Contains("x-r: Xc\r\n", got);
        Assert.Contains("x-rv: <a>,<b>\r\n", got);
        Assert.Contains("x-before-error: 1\r\n", got);
        Assert.Contains("x-after-error: yes\r\n", got);
        Assert.Contains("x-fresh: nil\r\n", got);

        // The response as the client got it.
        Assert.Equal(201, status);
        Assert.StartsWith("HTTP/1.1 201 Made\r\n", head);
        Assert.Contains("x-origin-server: origin/1\r\n", head);
        Assert.DoesNotContain("Server:", head);
        Assert.Contains("x-priv: priv-data\r\n", head);
        Assert.Contains("x-status-fetch: 201\r\n", head); // fetches see the rewritten status, as in HAProxy
        Assert.Contains("X-List: bz\r\n", head);
        Assert.Contains("X-Vals: a,b\r\n", head);
        Assert.Equal("ok", Encoding.ASCII.GetString(body));

        // Errors are logged with the function and the message; the stream went on.
        await h.WaitForStderrAsync("boom in action", TimeSpan.FromSeconds(5));
        await h.WaitForStderrAsync("Cannot manipulate HAProxy channels in HTTP mode.", TimeSpan.FromSeconds(5));
        await h.WaitForStderrAsync("HTTP.res_get_headers: only available in an http-res action", TimeSpan.FromSeconds(5));

        // set_uri / set_method, on the same connection.
        await c.SendAsync("GET /u HTTP/1.1\r\nHost: a\r\nx-multi: a\r\nx-multi: b\r\n\r\n");
        Assert.Equal(201, (await c.ReadResponseAsync()).Status);
        Assert.StartsWith("PUT /u?v=2 HTTP/1.1\r\n", origin.Requests.Last().Head);
        Assert.Contains("x-fresh: nil\r\n", origin.Requests.Last().Head);

        // A service after the action sees the action's private data and headers.
        await c.SendAsync("GET /svc HTTP/1.1\r\nHost: a\r\nx-multi: a\r\nx-multi: b\r\n\r\n");
        var svc = await c.ReadResponseAsync();
        Assert.Equal("priv-data hello /lua/svc", Encoding.ASCII.GetString(svc.Body));

        // txn:done() in an http-request action: the connection closes with no response.
        int before = origin.Requests.Count;
        await c.SendAsync("GET /done HTTP/1.1\r\nHost: a\r\nx-multi: a\r\nx-multi: b\r\n\r\n");
        Assert.Null(await c.ReadToEndAsync() is { Length: > 0 } some ? some : null);
        Assert.Equal(before, origin.Requests.Count);
    }

    [Fact]
    public async Task HttpActions_WrongPhaseOrArgumentCount_AreConfigErrors()
    {
        var (code, _, stderr) = await HaluaProcess.CheckAsync("""
            global
               lua-load actions.lua
            defaults
               mode http
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request lua.tcponly
               http-request lua.rewrite
               http-response lua.rewrite x
               http-request lua.nosuch
            """, new Dictionary<string, string>
        {
            ["actions.lua"] = Script + "\ncore.register_action(\"tcponly\", { \"tcp-req\" }, function(txn) end)\n",
        });
        Assert.Equal(1, code);
        Assert.Contains("haproxy.cfg:7", stderr);
        Assert.Contains("'lua.tcponly' is not registered for 'http-req'", stderr);
        Assert.Contains("haproxy.cfg:8", stderr);
        Assert.Contains("expects 1 argument(s), got 0", stderr);
        Assert.Contains("haproxy.cfg:9", stderr);
        Assert.Contains("'lua.rewrite' is not registered for 'http-res'", stderr);
        Assert.Contains("haproxy.cfg:10", stderr);
        Assert.Contains("'lua.nosuch' not found", stderr);
    }

    [Fact]
    public async Task LuaFetchAndConverter_TwelveArguments_InHttpRules_SeeTheRequest()
    {
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load samples.lua
            defaults
               mode http
               timeout client 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request set-header x-id %[lua.request-id(a,b,c,d,e,f,g,h,i,j,k,l),lua.tag(1,2,3,4,5,6,7,8,9,10,11,12)]
               http-request return status 200 content-type text/plain lf-string "%[req.hdr(x-id)]"
            """, new Dictionary<string, string>
        {
            ["samples.lua"] = """
                core.register_fetches("request-id", function(txn, ...)
                  return txn.sf:method() .. ":" .. txn.http:req_get_headers()["host"][0] .. txn.sf:req_hdr("host") .. ":" .. table.concat({ ... })
                end)
                core.register_converters("tag", function(value, ...)
                  return value .. "/" .. select("#", ...) .. "/" .. select(12, ...)
                end)
                """,
        });
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        var (status, _, body) = await c.AskAsync("/", host: "h1");
        Assert.Equal((200, "GET:h1h1:abcdefghijkl/12/12"), (status, body));
    }
}
