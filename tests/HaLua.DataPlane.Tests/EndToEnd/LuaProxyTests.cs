using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>
/// Lua's Proxy and Listener classes and core.proxies / frontends / backends through a running halua:
/// pause, resume and stop act on the listeners; the objects are there from the init context on.
/// </summary>
public class LuaProxyTests
{
    [Fact]
    public async Task PauseResumeStop_FromLua_ActOnTheFrontendsListeners()
    {
        await using var a = new TestServer("a");
        await using var echo = LuaControl.NamedEcho("echo");
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               lua-load ctl.lua
            defaults
               timeout connect 2s
               timeout client 30s
               timeout server 30s
            frontend fe
               bind 127.0.0.1:{PORT0}
               bind 127.0.0.1:{PORT2} name second
               default_backend be
            frontend tunnels
               bind 127.0.0.1:{PORT3}
               default_backend echoes
            backend be
               server a 127.0.0.1:{{a.Port}}
            backend echoes
               server echo 127.0.0.1:{{echo.Port}}
            {{LuaControl.Section}}
            """, new Dictionary<string, string> { ["ctl.lua"] = LuaControl.Script });
        int fe = h.Ports[0], ctl = h.Ports[1], second = h.Ports[2];
        const string Fe = "local fe = core.frontends.fe; ";
        Assert.Equal("second,sock-1", await LuaControl.RunAsync(ctl, Fe + "return keys(fe.listeners)"));
        Assert.Equal("a", await HaluaProcess.ExchangeAsync(fe));

        // Paused: every listener of the frontend refuses connections (HAProxy's behaviour), resume accepts again.
        Assert.Equal("PAUSED", await LuaControl.RunAsync(ctl, Fe + "fe:pause(); return fe:get_stats().status"));
        Assert.True(await LuaControl.RefusedAsync(fe));
        Assert.True(await LuaControl.RefusedAsync(second));
        Assert.Equal("OPEN", await LuaControl.RunAsync(ctl, Fe + "fe:resume(); return fe:get_stats().status"));
        Assert.Equal("a", await HaluaProcess.ExchangeAsync(fe));
        Assert.Equal("a", await HaluaProcess.ExchangeAsync(second));

        // A backend has no listeners: pause does nothing there.
        Assert.Equal("UP", await LuaControl.RunAsync(ctl, "local be = core.backends.be; be:pause(); return be:get_stats().status"));

        // Stopped: closed for good (resume cannot reopen it); the streams in flight go on.
        var (tunnel, server) = await LuaControl.OpenTunnelAsync(h.Ports[3]);
        using (tunnel)
        {
            Assert.Equal("echo", server);
            Assert.Equal("STOP STOP", await LuaControl.RunAsync(ctl, "local t = core.frontends.tunnels; t:stop(); local s = t:get_stats().status; t:resume(); return s .. ' ' .. t:get_stats().status"));
            Assert.True(await LuaControl.RefusedAsync(h.Ports[3]));
            await tunnel.SendAsync(Encoding.ASCII.GetBytes("in flight"));
            Assert.Equal("in flight", await LuaControl.ReadAsync(tunnel, TimeSpan.FromSeconds(5)));
        }

        Assert.Equal("a", await HaluaProcess.ExchangeAsync(fe));
        await h.WaitForStderrAsync("Paused frontend fe.", TimeSpan.FromSeconds(5));
        await h.WaitForStderrAsync("Proxy tunnels stopped (cumulated conns: FE: 1, BE: 0).", TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task CoreProxies_NilInBody_LiveObjectsFromInitOn_InEveryContext()
    {
        await using var a = new TestServer("a");
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               lua-load ctl.lua
               lua-load proxies.lua
               lua-load-per-thread per_thread.lua
               nbthread 2
            defaults
               timeout connect 2s
               timeout client 5s
               timeout server 5s
            frontend fe
               mode http
               bind 127.0.0.1:{PORT0}
               default_backend be
            frontend act
               bind 127.0.0.1:{PORT4}
               tcp-request content lua.weight_var
               tcp-request content use-service lua.say_var if { lua.a_weight 12 }
               tcp-request content reject
            backend be
               mode http
               server a 127.0.0.1:{{a.Port}} weight 7
               server bk 127.0.0.1:{{a.Port}} backup
            listen both
               bind 127.0.0.1:{PORT2}
               server x 127.0.0.1:{{a.Port}}
            frontend per_thread
               bind 127.0.0.1:{PORT3}
               tcp-request content use-service lua.per_thread
            {{LuaControl.Section}}
            """, new Dictionary<string, string>
        {
            ["ctl.lua"] = LuaControl.Script,
            ["proxies.lua"] = """
                body_saw = type(core.proxies) .. " " .. type(core.frontends) .. " " .. type(core.backends)
                core.register_init(function()
                  init_saw = keys(core.proxies) .. " | " .. keys(core.frontends) .. " | " .. keys(core.backends)
                end)
                core.register_task(function()
                  task_saw = core.backends.be.servers.a:get_weight()
                end)
                core.register_action("weight_var", { "tcp-req" }, function(txn)
                  txn:set_var("txn.weight", core.backends.be.servers.a:get_weight())
                end)
                core.register_fetches("a_weight", function(txn)
                  return core.backends.be.servers.a:get_weight()
                end)
                core.register_service("say_var", "tcp", function(applet)
                  applet:send("weight " .. applet:get_var("txn.weight"))
                end)
                """,
            ["per_thread.lua"] = """
                core.register_service("per_thread", "tcp", function(applet)
                  applet:send(core.proxies.be.servers.a:get_weight() .. " " .. core.proxies.be.uuid)
                end)
                """,
        });
        int ctl = h.Ports[1];
        Assert.Equal("nil nil nil", await LuaControl.RunAsync(ctl, "return body_saw"));
        Assert.Equal("act,be,both,ctl,fe,per_thread | act,both,ctl,fe,per_thread | be,both,ctl", await LuaControl.RunAsync(ctl, "return init_saw"));
        await LuaControl.WaitForAsync(ctl, "return tostring(task_saw)", "7", TimeSpan.FromSeconds(5));

        // The attributes HAProxy 2.6 gives (uuid and puid as numeric strings), and the later getters.
        Assert.Equal("be string a,bk | 0,listeners,name,servers,uuid", await LuaControl.RunAsync(ctl,
            "local be = core.backends.be; return be.name .. ' ' .. type(be.uuid) .. ' ' .. keys(be.servers) .. ' | ' .. keys(be)"));
        Assert.Matches("^[0-9]+$", await LuaControl.RunAsync(ctl, "return core.proxies.be.uuid"));
        Assert.Equal("a string 1 | bk 2 integer | 0,name,puid", await LuaControl.RunAsync(ctl,
            "local s = core.backends.be.servers; return s.a.name .. ' ' .. type(s.a.puid) .. ' ' .. s.a.puid .. ' | ' .. s.bk:get_name() .. ' ' .. s.bk:get_puid() .. ' ' .. math.type(s.bk:get_puid()) .. ' | ' .. keys(s.a)"));
        Assert.Equal("frontend backend proxy | http http tcp", await LuaControl.RunAsync(ctl,
            "local p = core.proxies; return p.fe:get_cap() .. ' ' .. p.be:get_cap() .. ' ' .. p.both:get_cap() .. ' | ' .. p.fe:get_mode() .. ' ' .. p.be:get_mode() .. ' ' .. p.both:get_mode()"));
        Assert.Equal("sock-1 | ", await LuaControl.RunAsync(ctl, "return keys(core.proxies.fe.listeners) .. ' | ' .. keys(core.proxies.be.listeners)"));

        // Live, not copies: a change made through one object is what every other reader sees.
        Assert.Equal("12 12", await LuaControl.RunAsync(ctl, "core.backends.be.servers.a:set_weight('12'); return core.proxies.be.servers.a:get_weight() .. ' ' .. core.backends.be.servers.a:get_stats().weight"));
        Assert.StartsWith("12 ", await HaluaProcess.ExchangeAsync(h.Ports[3]));

        // An action (a variable the service reads) and a sample fetch (an ACL) see it too.
        Assert.Equal("weight 12", await HaluaProcess.ExchangeAsync(h.Ports[4]));

        // A wrong object is a Lua error naming the function.
        Assert.StartsWith("error: [string \"ctl\"]:1: Proxy.get_stats: bad argument #1 (Proxy expected, got table)", await LuaControl.RunAsync(ctl, "local r = core.proxies.be.get_stats({}) return r"));
        Assert.StartsWith("error: [string \"ctl\"]:1: Server.get_weight: bad argument #1 (Server expected, got table)", await LuaControl.RunAsync(ctl, "local r = core.backends.be.servers.a.get_weight(core.backends.be) return r"));
    }
}
