using System.Diagnostics;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>
/// The TXN class's logging, socket options and variables, through a running halua, checked
/// against what HAProxy 2.6.12 does with the same configuration and script.
/// </summary>
public class LuaTxnTests
{
    [Fact]
    public async Task TxnLog_ToTheStreamsProxyTargets_SetLoglevelAppliesToTheAccessLog()
    {
        using var global = new SyslogReceiver();
        using var front = new SyslogReceiver();
        using var back = new SyslogReceiver();
        await using var origin = new HttpOrigin();
        await using var server = new TestServer("tcp-server");
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               log 127.0.0.1:{{global.Port}} local0
               lua-load log.lua
            defaults
               timeout connect 1s
               timeout client 5s
               timeout server 5s
            frontend fe
               mode http
               bind 127.0.0.1:{PORT0}
               log 127.0.0.1:{{front.Port}} local0
               log-format "ACCESS %ST %{+Q}r"
               http-request lua.req
               http-response lua.res
               default_backend be
            backend be
               mode http
               log 127.0.0.1:{{back.Port}} local0
               server o 127.0.0.1:{{origin.Port}}
            frontend ft
               mode tcp
               bind 127.0.0.1:{PORT1}
               log 127.0.0.1:{{front.Port}} local0
               log-format "TCPACCESS %ft"
               tcp-request content lua.tcp
               default_backend tcpbe
            backend tcpbe
               mode tcp
               server t 127.0.0.1:{{server.Port}}
            """, new Dictionary<string, string>
        {
            ["log.lua"] = """
                core.register_action("req", { "http-req" }, function(txn)
                  local path = txn.f:path()
                  txn:log(core.warning, "req-warning " .. path)
                  if path == "/err" then txn:set_loglevel(core.err) end
                  txn:deflog("req-deflog " .. path)
                  txn:Info("req-info " .. path)
                  txn:Debug("req-debug " .. path)
                  core.log(core.notice, "core-notice " .. path)
                  for _, bad in ipairs({ -1, 8 }) do
                    assert(not pcall(txn.set_loglevel, txn, bad))
                    assert(not pcall(txn.log, txn, bad, "x"))
                  end
                end)
                core.register_action("res", { "http-res" }, function(txn)
                  txn:Alert("res-alert " .. txn.f:path())
                end)
                core.register_action("tcp", { "tcp-req" }, function(txn)
                  txn:set_loglevel(core.notice)
                  txn:Warning("tcp-warning")
                end)
                """,
        });
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        Assert.Equal(200, (await c.AskAsync("/err")).Status);

        // Before the backend is chosen, txn:log goes to the frontend's targets (local0 = 16 * 8).
        Assert.Matches(@"^<132>.* haproxy\[\d+\]: req-warning /err\n$", await front.NextWithAsync("req-warning /err"));
        Assert.StartsWith("<131>", await front.NextWithAsync("req-deflog /err"), StringComparison.Ordinal); // set_loglevel(err)
        Assert.StartsWith("<134>", await front.NextWithAsync("req-info /err"), StringComparison.Ordinal);
        Assert.StartsWith("<135>", await front.NextWithAsync("req-debug /err"), StringComparison.Ordinal);

        // core.log goes to the global targets; txn:log after the backend is chosen to the backend's.
        Assert.StartsWith("<133>", await global.NextWithAsync("core-notice /err"), StringComparison.Ordinal);
        Assert.StartsWith("<129>", await back.NextWithAsync("res-alert /err"), StringComparison.Ordinal);

        // The access line takes the level txn:set_loglevel set (HAProxy 2.6 logs it one level higher: a bug).
        Assert.StartsWith("<131>", await front.NextWithAsync("ACCESS 200 \"GET /err HTTP/1.1\""), StringComparison.Ordinal);

        // The next transaction starts at the default: info (deflog too: HAProxy 2.6 uses emerg, a bug).
        Assert.Equal(200, (await c.AskAsync("/next")).Status);
        Assert.StartsWith("<134>", await front.NextWithAsync("req-deflog /next"), StringComparison.Ordinal);
        Assert.StartsWith("<134>", await front.NextWithAsync("ACCESS 200 \"GET /next HTTP/1.1\""), StringComparison.Ordinal);

        // And on stderr, as HAProxy in the foreground (debug only with -d).
        await h.WaitForStderrAsync("[warning] ", TimeSpan.FromSeconds(5));
        await h.WaitForStderrAsync(" : req-warning /err", TimeSpan.FromSeconds(5));
        Assert.DoesNotContain("req-debug", h.Stderr, StringComparison.Ordinal);

        // TCP: the same for a TCP stream's access line.
        Assert.Equal("tcp-server", await HaluaProcess.ExchangeAsync(h.Ports[1], "x"));
        Assert.StartsWith("<132>", await front.NextWithAsync("tcp-warning"), StringComparison.Ordinal);
        Assert.StartsWith("<133>", await front.NextWithAsync("TCPACCESS ft"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetTosSetMark_ClientSocket_OptionsSetOrMarkSilentlyRefused()
    {
        await using var h = await HaluaProcess.StartAsync("""
            global
               lua-load tos.lua
            defaults
               mode http
               timeout client 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               http-request lua.mark
               http-request return status 200 content-type text/plain string marked
            """, new Dictionary<string, string>
        {
            ["tos.lua"] = """
                core.register_action("mark", { "http-req" }, function(txn)
                  txn:set_tos(0x20)
                  txn:set_mark(42)
                end)
                """,
        });
        using var c = await RawHttpClient.ConnectAsync(h.Ports[0]);
        var (status, _, body) = await c.AskAsync("/");
        Assert.Equal((200, "marked"), (status, body));

        // The kernel's view of halua's end of this connection (iproute2's ss shows tos and fwmark).
        var psi = new ProcessStartInfo("ss", ["-tne", "--tos", "state", "established", "sport", "=", $":{h.Ports[0]}"]) { RedirectStandardOutput = true };
        using var ss = Process.Start(psi)!;
        string socketInfo = await ss.StandardOutput.ReadToEndAsync();
        await ss.WaitForExitAsync();
        Assert.Contains("tos:0x20", socketInfo, StringComparison.Ordinal);

        // SO_MARK needs CAP_NET_ADMIN: with it the mark is set; without, the call is a silent no-op.
        if (HasNetAdmin())
        {
            Assert.Contains("fwmark:0x2a", socketInfo, StringComparison.Ordinal);
        }
        else
        {
            Assert.DoesNotContain("fwmark:", socketInfo, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Variables_EveryScope_SharedWithConfigAndAcrossRequests()
    {
        await using var origin = new HttpOrigin(r => Task.FromResult<byte[]?>(HttpOrigin.Ok("origin", "X-Seen: " + Header(r.Head, "x-vars") + "\r\n")));
        await using var server = new TestServer("tcp-server");
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               lua-load vars.lua
            defaults
               timeout connect 1s
               timeout client 5s
               timeout server 5s
            frontend fe
               mode http
               bind 127.0.0.1:{PORT0}
               http-request set-var(txn.fromcfg) str(cfg)
               http-request set-var(req.cfgreq) str(r1)
               http-request lua.req
               http-request set-header x-vars %[var(txn.fromlua)],%[var(sess.n)],%[var(proc.hits)],%[var(req.fromlua)]
               http-response lua.res
               http-response set-header x-res %[var(res.fromlua)],%[var(req.fromlua)],%[var(txn.fromlua)]
               default_backend be
            backend be
               mode http
               server o 127.0.0.1:{{origin.Port}}
            frontend ft
               mode tcp
               bind 127.0.0.1:{PORT1}
               tcp-request inspect-delay 1s
               tcp-request content set-var(sess.tcpcfg) str(tcp)
               tcp-request content lua.tcp
               tcp-request content reject if !{ var(txn.ok) -m str yes }
               tcp-request content unset-var(txn.ok)
               tcp-request content reject if { var(txn.ok) -m found }
               default_backend tcpbe
            backend tcpbe
               mode tcp
               server t 127.0.0.1:{{server.Port}}
            """, new Dictionary<string, string>
        {
            ["vars.lua"] = """
                core.register_action("req", { "http-req" }, function(txn)
                  assert(txn:get_var("txn.fromcfg") == "cfg" and txn:get_var("req.cfgreq") == "r1")
                  assert(txn:set_var("txn.fromlua", "lua") == true)
                  assert(txn:set_var("sess.n", (txn:get_var("sess.n") or 0) + 1) == true)
                  -- ifexist: a proc variable is only updated, never created (HAProxy 2.6).
                  assert(txn:set_var("proc.hits", (txn:get_var("proc.hits") or 0) + 1, true) == (txn:get_var("proc.hits") ~= nil))
                  if txn:get_var("proc.hits") == nil then txn:set_var("proc.hits", 1) end
                  assert(txn:set_var("proc.never", 1, true) == false and txn:get_var("proc.never") == nil)
                  assert(txn:set_var("txn.other", 1, true) == true)
                  assert(txn:set_var("req.fromlua", "req") == true)
                  -- A response variable does not exist yet; bad names are refused.
                  txn:set_var("res.early", "x")
                  assert(txn:get_var("res.early") == nil)
                  assert(txn:set_var("bogus.name", 1) == false and txn:get_var("bogus.name") == nil)
                  assert(txn:set_var("txn.", 1) == false and txn:unset_var("nope") == false)
                  -- Samples as HAProxy casts them: booleans come back as integers, floats as integers.
                  txn:set_var("txn.b", true)
                  assert(txn:get_var("txn.b") == 1 and math.type(txn:get_var("txn.b")) == "integer")
                  txn:set_var("txn.f", 2.0)
                  assert(math.type(txn:get_var("txn.f")) == "integer" and txn:get_var("txn.f") == 2)
                  txn:set_var("txn.t", {})
                  assert(txn:get_var("txn.t") == 0)
                  assert(txn:unset_var("txn.b") == true and txn:get_var("txn.b") == nil)
                end)
                core.register_action("res", { "http-res" }, function(txn)
                  -- The request's variables are gone; the transaction's stay.
                  assert(txn:get_var("req.fromlua") == nil and txn:get_var("req.cfgreq") == nil)
                  assert(txn:get_var("txn.fromlua") == "lua")
                  txn:set_var("res.fromlua", "res")
                end)
                core.register_action("tcp", { "tcp-req" }, function(txn)
                  if txn:get_var("sess.tcpcfg") == "tcp" then txn:set_var("txn.ok", "yes") end
                end)
                """,
        });

        // Two requests on one connection (sess.* stay, txn.* and req.* start again), one on another.
        using (var c = await RawHttpClient.ConnectAsync(h.Ports[0]))
        {
            var (status, head, _) = await c.AskAsync("/a");
            Assert.Equal(200, status);
            Assert.Contains("X-Seen: lua,1,1,req\r\n", head, StringComparison.Ordinal);
            Assert.Contains("x-res: res,,lua\r\n", head, StringComparison.Ordinal);
            (_, head, _) = await c.AskAsync("/b");
            Assert.Contains("X-Seen: lua,2,2,req\r\n", head, StringComparison.Ordinal);
        }

        using (var c = await RawHttpClient.ConnectAsync(h.Ports[0]))
        {
            var (_, head, _) = await c.AskAsync("/c");
            Assert.Contains("X-Seen: lua,1,3,req\r\n", head, StringComparison.Ordinal);
        }

        // TCP: set-var and unset-var in tcp-request content rules, read and written by Lua.
        Assert.Equal("tcp-server", await HaluaProcess.ExchangeAsync(h.Ports[1], "x"));
        Assert.DoesNotContain("runtime error", h.Stderr, StringComparison.Ordinal);
    }

    private static string Header(string head, string name)
        => head.Split("\r\n").FirstOrDefault(l => l.StartsWith(name + ":", StringComparison.OrdinalIgnoreCase))?[(name.Length + 1)..].Trim() ?? "-";

    /// <summary>CAP_NET_ADMIN (bit 12) in this process's effective set: halua runs with the same.</summary>
    private static bool HasNetAdmin()
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("CapEff:", StringComparison.Ordinal));
        return line is not null && (Convert.ToUInt64(line[7..].Trim(), 16) & (1UL << 12)) != 0;
    }
}
