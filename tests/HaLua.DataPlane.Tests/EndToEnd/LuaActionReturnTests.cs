using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>
/// What a Lua action's return value (act.*) does to its rule set, through a running halua, as
/// HAProxy 2.6.12 does it (observed side by side with the same configuration).
/// </summary>
public class LuaActionReturnTests
{
    private const string Script = """
        for _, n in ipairs({ "CONTINUE", "STOP", "YIELD", "ERROR", "DONE", "DENY", "ABORT", "INVALID" }) do
          core.register_action("q" .. n, { "http-req", "tcp-req" }, function(txn) return act[n] end)
          core.register_action("s" .. n, { "http-res", "tcp-res" }, function(txn) return act[n] end)
        end
        core.register_action("str", { "http-req" }, function(txn) return "1" end)
        core.register_action("bool", { "http-req" }, function(txn) return true end)
        core.register_action("big", { "http-req" }, function(txn) return 42 end)
        -- Returns act.YIELD twice, 100 ms apart, then goes on: three calls per request.
        core.register_action("again", { "http-req", "tcp-req" }, function(txn)
          local n = (txn:get_priv() or 0) + 1
          txn:set_priv(n)
          txn:set_var("txn.calls", n)
          if n < 3 then
            act.wake_time(100)
            return act.YIELD
          end
        end)
        -- TCP: the first three bytes of the request name the code ("qST" is act.STOP in tcp-req,
        -- "sST" in tcp-res).
        local names = { "CONTINUE", "STOP", "YIELD", "ERROR", "DONE", "DENY", "ABORT", "INVALID" }
        local function code(p, side)
          for _, n in ipairs(names) do
            if p == side .. n:sub(1, 2) then return act[n] end
          end
        end
        core.register_action("tcpq", { "tcp-req" }, function(txn)
          local p = txn.req:dup():sub(1, 3)
          txn:set_var("sess.p", p)
          return code(p, "q")
        end)
        core.register_action("tcps", { "tcp-res" }, function(txn)
          return code(txn:get_var("sess.p"), "s")
        end)
        -- Without a wake time, a tcp-req action is called again when more data arrives.
        core.register_action("waitdata", { "tcp-req" }, function(txn)
          if txn.f:req_len() < 6 then return act.YIELD end
        end)
        core.register_service("wake_outside", "http", function(applet)
          local ok, e = pcall(act.wake_time, 10)
          local body = tostring(ok) .. " " .. e .. " " .. act.CONTINUE .. act.STOP .. act.YIELD .. act.ERROR .. act.DONE .. act.DENY .. act.ABORT .. act.INVALID
          applet:set_status(200)
          applet:add_header("content-length", #body)
          applet:start_response()
          applet:send(body)
        end)
        """;

    private static readonly string[] Names = ["CONTINUE", "STOP", "YIELD", "ERROR", "DONE", "DENY", "ABORT", "INVALID"];

    private static string HttpConfig(int originPort)
    {
        var rules = new StringBuilder();
        foreach (var n in Names)
        {
            rules.Append($"   http-request lua.q{n} if {{ path /q{n} }}\n");
            rules.Append($"   http-response lua.s{n} if {{ var(txn.path) -m str /s{n} }}\n");
        }

        return $$"""
            global
               lua-load act.lua
            defaults
               mode http
               timeout connect 1s
               timeout client 10s
               timeout server 10s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request set-var(txn.path) path
               http-request use-service lua.wake_outside if { path /wake }
            {{rules}}
               http-request lua.str if { path /str }
               http-request lua.bool if { path /bool }
               http-request lua.big if { path /big }
               http-request lua.again if { path /again }
               http-request set-header x-after 1
               http-request set-header x-calls %[var(txn.calls)]
               http-response set-header x-after-res 1
               default_backend be
            backend be
               http-request set-header x-be 1
               server o 127.0.0.1:{{originPort}}
            """;
    }

    private static HttpOrigin EchoOrigin() => new(r =>
    {
        string Header(string name) => r.Head.Split("\r\n").FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 2)..] ?? "-";
        return Task.FromResult<byte[]?>(HttpOrigin.Ok($"after={Header("x-after")} be={Header("x-be")} calls={Header("x-calls")}"));
    });

    [Theory]
    [InlineData("/qCONTINUE", 200, "after=1 be=1 calls=", true)]
    [InlineData("/qSTOP", 200, "after=- be=1 calls=-", true)] // this proxy's rules stop; the backend's run
    [InlineData("/qDONE", 200, "after=- be=1 calls=-", true)]
    [InlineData("/qERROR", 500, "", false)]
    [InlineData("/qDENY", 403, "", false)]
    [InlineData("/qABORT", 503, "", false)]
    [InlineData("/qINVALID", 400, "", false)]
    [InlineData("/sCONTINUE", 200, "after=1 be=1 calls=", true)]
    [InlineData("/sSTOP", 200, "after=1 be=1 calls=", false)]
    [InlineData("/sDONE", 200, "after=1 be=1 calls=", false)]
    [InlineData("/sABORT", 200, "after=1 be=1 calls=", false)] // HAProxy 2.6 forwards the response
    [InlineData("/sERROR", 500, "", false)]
    [InlineData("/sDENY", 502, "", false)]
    [InlineData("/sINVALID", 502, "", false)]
    [InlineData("/str", 200, "after=- be=1 calls=-", true)] // "1" is act.STOP for lua_tointeger
    [InlineData("/bool", 200, "after=1 be=1 calls=", true)]
    [InlineData("/big", 200, "after=1 be=1 calls=", true)]
    public async Task HttpAction_ReturnCode_ActsAsHaproxy(string path, int status, string body, bool responseRulesRan)
    {
        await using var origin = EchoOrigin();
        await using var h = await HaluaProcess.StartAsync(HttpConfig(origin.Port), new Dictionary<string, string> { ["act.lua"] = Script });
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        var (gotStatus, head, gotBody) = await c.AskAsync(path);
        Assert.Equal(status, gotStatus);
        if (status == 200)
        {
            Assert.Equal(body, gotBody);
            Assert.Equal(responseRulesRan, head.Contains("x-after-res: 1", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task HttpAction_YieldWithWakeTime_CalledAgainLater()
    {
        await using var origin = EchoOrigin();
        await using var h = await HaluaProcess.StartAsync(HttpConfig(origin.Port), new Dictionary<string, string> { ["act.lua"] = Script });
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        var sw = Stopwatch.StartNew();
        var (status, _, body) = await c.AskAsync("/again");
        Assert.Equal((200, "after=1 be=1 calls=3"), (status, body));
        Assert.True(sw.Elapsed >= TimeSpan.FromMilliseconds(190), $"two wake times of 100 ms: {sw.Elapsed}");

        // act.* are HAProxy's numbers; act.wake_time is for actions only.
        var (_, _, wake) = await c.AskAsync("/wake");
        Assert.StartsWith("false ", wake, StringComparison.Ordinal);
        Assert.Contains("act.wake_time: not available in the service context", wake, StringComparison.Ordinal);
        Assert.EndsWith(" 01234567", wake, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TcpAction_ReturnCodes_ActAsHaproxy()
    {
        await using var server = new TestServer("tcp-server", async s =>
        {
            var buf = new byte[256];
            int n = await s.ReceiveAsync(buf);
            await s.SendAsync(Encoding.ASCII.GetBytes("server got " + Encoding.ASCII.GetString(buf, 0, n)));
        });
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               lua-load act.lua
            defaults
               mode tcp
               timeout connect 1s
               timeout client 3s
               timeout server 3s
            frontend fe
               bind 127.0.0.1:{PORT0}
               tcp-request inspect-delay 2s
               tcp-request content lua.tcpq
               tcp-request content lua.again if { var(sess.p) -m str yie }
               tcp-request content lua.waitdata if { var(sess.p) -m str dat }
               # Reached after CONTINUE only; "yie" goes through after exactly three calls.
               tcp-request content reject if { var(sess.p) -m str qCO }
               tcp-request content reject if { var(sess.p) -m str yie } !{ var(txn.calls) -m int 3 }
               default_backend be
            backend be
               tcp-response content lua.tcps
               server s 127.0.0.1:{{server.Port}}
            """, new Dictionary<string, string> { ["act.lua"] = Script });

        Task<string> Exchange(string send) => HaluaProcess.ExchangeAsync(h.Ports[0], send, halfClose: false);

        // CONTINUE goes on to the next rule (here a reject); STOP and DONE end the rules, the request goes to the server.
        Assert.Equal("", await Exchange("qCO"));
        Assert.Equal("server got qST", await Exchange("qST"));
        Assert.Equal("server got qDO", await Exchange("qDO"));

        // ERROR, DENY, ABORT and INVALID close the connection.
        foreach (var refused in new[] { "qER", "qDE", "qAB", "qIN" })
        {
            Assert.Equal("", await Exchange(refused));
        }

        // Response actions: CONTINUE, STOP, DONE, ABORT (as HAProxy 2.6) forward the response; ERROR, DENY, INVALID close.
        foreach (var forwarded in new[] { "sCO", "sST", "sDO", "sAB" })
        {
            Assert.Equal("server got " + forwarded, await Exchange(forwarded));
        }

        foreach (var refused in new[] { "sER", "sDE", "sIN" })
        {
            Assert.Equal("", await Exchange(refused));
        }

        // act.YIELD with a wake time: called again (three calls); without one, when more data arrives.
        Assert.Equal("server got yie", await Exchange("yie"));
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(IPAddress.Loopback, h.Ports[0]);
        await s.SendAsync(Encoding.ASCII.GetBytes("dat"));
        await Task.Delay(200);
        await s.SendAsync(Encoding.ASCII.GetBytes("abc"));
        var got = new MemoryStream();
        var buf = new byte[256];
        int r;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while ((r = await s.ReceiveAsync(buf, SocketFlags.None, cts.Token)) > 0)
        {
            got.Write(buf, 0, r);
        }

        Assert.Equal("server got databc", Encoding.ASCII.GetString(got.ToArray()));
    }
}
