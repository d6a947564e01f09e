using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>
/// The members no other test reached: the Channel readers, the samples of TXN and the applets,
/// the applets' private data and variables, AppletHTTP.getline, core.done, core.yield,
/// core.sleep and the log helpers, through a running halua.
/// </summary>
public class LuaMembersTests
{
    [Fact]
    public async Task TcpAction_ChannelReadersAndTxnSamples_AndTcpServiceAttributes()
    {
        await using var server = new TestServer("origin", async s =>
        {
            var buf = new byte[1024];
            int n = await s.ReceiveAsync(buf);
            await s.SendAsync(Encoding.ASCII.GetBytes("got:" + Encoding.ASCII.GetString(buf, 0, n)));
        });
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               lua-load members.lua
            defaults
               mode tcp
               timeout connect 2s
               timeout client 5s
               timeout server 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               tcp-request inspect-delay 2s
               tcp-request content lua.inspect
               tcp-request content reject if !{ var(txn.ok) -m str yes }
               default_backend be
            backend be
               server o 127.0.0.1:{{server.Port}}
            frontend svc
               bind 127.0.0.1:{PORT1}
               tcp-request content use-service lua.tcpsvc
            """, new Dictionary<string, string>
        {
            ["members.lua"] = """
                core.register_action("inspect", { "tcp-req" }, function(txn)
                  local req = txn.req
                  local d = req:dup()
                  -- dup copies: the data is still there, in the input part.
                  assert(d == "hello world" and req:get_in_len() == 11 and req:get_in_length() == 11, d)
                  assert(req:get_out_len() == 0 and req:get_out_length() == 0 and req:is_full() == false)
                  -- forward moves bytes from the input to the output part.
                  assert(req:forward(6) == 6 and req:get_out_len() == 6 and req:get_in_len() == 5)
                  assert(req:forward(100) == 5 and req:get_in_len() == 0)
                  -- The samples: typed from f and c, strings from sf and sc.
                  assert(txn.f:always_true() == 1 and txn.sf:always_true() == "1" and txn.sf:fe_name() == "fe")
                  assert(txn.c:lower("ABC") == "abc" and txn.sc:length("abcd") == "4" and txn.c:length("abcd") == 4)
                  assert(txn.f:str("s") == "s")
                  txn:set_var("txn.ok", "yes")
                end)
                core.register_service("tcpsvc", "tcp", function(applet)
                  assert(applet:get_priv() == nil)
                  applet:set_priv({ n = 41 })
                  applet:set_var("txn.v", "value")
                  local before = applet:get_var("txn.v")
                  applet:unset_var("txn.v")
                  local line = applet:getline()
                  applet:send(table.concat({ applet.f:fe_name(), applet.sf:src(), applet.c:upper("x"), applet.sc:length("ab"),
                    applet:get_priv().n + 1, before, tostring(applet:get_var("txn.v")), line }, " "))
                end)
                """,
        });
        Assert.Equal("got:hello world", await HaluaProcess.ExchangeAsync(h.Ports[0], "hello world", halfClose: false));
        Assert.Equal("svc 127.0.0.1 X 2 42 value nil ping\n", await HaluaProcess.ExchangeAsync(h.Ports[1], "ping\n"));
        Assert.DoesNotContain("runtime error", h.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpService_AttributesGetlinePrivAndVars_CoreDoneYieldSleepAndLogs()
    {
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load members.lua
            defaults
               mode http
               timeout client 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request lua.early
               http-request set-header x-done %[lua.early_fetch]/%[lua.txn_done_fetch]/%[lua.nil_fetch]/%[lua.bad_fetch]/%[req.ver]
               http-request set-header x-found 1 if { lua.nil_fetch -m found }
               http-request use-service lua.httpsvc
            """, new Dictionary<string, string>
        {
            ["members.lua"] = """
                assert(core.emerg == 0 and core.alert == 1 and core.crit == 2 and core.err == 3)
                assert(core.warning == 4 and core.notice == 5 and core.info == 6 and core.debug == 7)
                core.register_action("early", { "http-req" }, function(txn)
                  core.yield()
                  core.sleep(0)
                  core.Alert("alert-from-lua")
                  core.Warning("warning-from-lua")
                  core.Info("info-from-lua")
                  core.Debug("debug-from-lua")
                  txn:set_priv("from-action")
                  -- core.done ends the action here: the variable is never set.
                  core.done()
                  txn:set_var("txn.after_done", "reached")
                end)
                core.register_fetches("early_fetch", function(txn)
                  core.done("kept")
                  return "not this"
                end)
                core.register_fetches("txn_done_fetch", function(txn)
                  txn:done()
                  return "not this"
                end)
                core.register_fetches("nil_fetch", function(txn) return nil end)
                core.register_fetches("bad_fetch", function(txn) error("bad fetch") end)
                core.register_service("httpsvc", "http", function(applet)
                  local lines = { applet:getline(), applet:getline(), applet:getline() }
                  local priv = applet:get_priv()
                  applet:set_priv("svc")
                  applet:set_var("txn.s", 5)
                  local v = applet:get_var("txn.s")
                  applet:unset_var("txn.s")
                  local body = table.concat({ applet.f:path(), applet.sf:method(), applet.c:lower("UP"), applet.sc:length("abc"),
                    applet.headers["x-done"][0], applet.headers["x-found"][0], applet.sf:req_ver(), tostring(priv), applet:get_priv(), v, tostring(applet:get_var("txn.s")),
                    tostring(applet:get_var("txn.after_done")), lines[1], lines[2], "[" .. lines[3] .. "]" }, " ")
                  applet:set_status(200)
                  applet:add_header("content-length", #body)
                  applet:start_response()
                  applet:send(body)
                end)
                """,
        });
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        await c.SendAsync("POST /svc HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\nline1\nline2\n");
        var (status, _, bytes) = await c.ReadResponseAsync();
        string body = Encoding.ASCII.GetString(bytes);
        Assert.Equal(200, status);

        // core.done(value) in a fetch gives value; txn:done() in a fetch ends it with no value and a
        // fetch returning nil gives the boolean false (REALITY.md: "-m found" matches); a failing one no sample.
        Assert.Equal("/svc POST up 3 kept/0/0//1.1 1 1.1 from-action svc 5 nil nil line1\n line2\n []", body);
        await h.WaitForStderrAsync("bad fetch", TimeSpan.FromSeconds(5));

        // The log helpers at their levels; debug only with -d.
        await h.WaitForStderrAsync("[alert] ", TimeSpan.FromSeconds(5));
        foreach (var text in new[] { "alert-from-lua", "warning-from-lua", "info-from-lua" })
        {
            await h.WaitForStderrAsync(text, TimeSpan.FromSeconds(5));
        }

        Assert.DoesNotContain("debug-from-lua", h.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SessionTimeout_StopsARunawayAction_TheNextRulesRun()
    {
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load loop.lua
               tune.lua.session-timeout 200ms
            defaults
               mode http
               timeout client 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request lua.spin
               http-request return status 200 content-type text/plain lf-string "after %[var(txn.before)]"
            """, new Dictionary<string, string>
        {
            ["loop.lua"] = """
                core.register_action("spin", { "http-req" }, function(txn)
                  txn:set_var("txn.before", "kept")
                  while true do end
                end)
                """,
        });
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        Assert.Equal((200, "after kept"), ((await c.AskAsync("/")) is var r ? (r.Status, r.Body) : default));
        await h.WaitForStderrAsync("Lua action 'spin': execution timeout", TimeSpan.FromSeconds(5));
    }
}
