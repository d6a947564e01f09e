using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>
/// Lua's Server class through a running halua: a Lua service changes servers (weight, states,
/// forced health, address, sessions) and real clients see the traffic follow.
/// </summary>
public class LuaServerTests
{
    private static Dictionary<string, string> Files => new() { ["ctl.lua"] = LuaControl.Script };

    private static async Task<Dictionary<string, int>> SplitAsync(int port, int connections)
    {
        var counts = new Dictionary<string, int>();
        for (int i = 0; i < connections; i++)
        {
            var who = await HaluaProcess.ExchangeAsync(port);
            counts[who] = counts.GetValueOrDefault(who) + 1;
        }

        return counts;
    }

    [Fact]
    public async Task WeightAndStates_SetFromLua_ChangeWhereNewConnectionsGo()
    {
        await using var a = new TestServer("a");
        await using var b = new TestServer("b");
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               lua-load ctl.lua
            defaults
               timeout connect 2s
               timeout client 5s
               timeout server 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               default_backend be
            backend be
               balance roundrobin
               server a 127.0.0.1:{{a.Port}}
               server b 127.0.0.1:{{b.Port}}
            {{LuaControl.Section}}
            """, Files);
        int fe = h.Ports[0], ctl = h.Ports[1];
        const string A = "local a = core.backends.be.servers.a; ";
        const string State = "return a:get_stats().status .. ' ' .. a:get_weight() .. ' ' .. tostring(a:is_draining())";

        var even = await SplitAsync(fe, 20);
        Assert.Equal((10, 10), (even.GetValueOrDefault("a"), even.GetValueOrDefault("b")));

        // Weight 0: no new traffic, and the server counts as draining.
        Assert.Equal("nil no check 0 true", await LuaControl.RunAsync(ctl, A + "local r = a:set_weight('0'); return tostring(r) .. ' ' .. a:get_stats().status .. ' ' .. a:get_weight() .. ' ' .. tostring(a:is_draining())"));
        Assert.Equal(10, (await SplitAsync(fe, 10)).GetValueOrDefault("b"));

        // "N%" is of the initial weight; 3:1 then shares new connections 3:1.
        Assert.Equal("no check 3 false", await LuaControl.RunAsync(ctl, A + "a:set_weight('300%'); " + State));
        var weighted = await SplitAsync(fe, 40);
        Assert.InRange(weighted.GetValueOrDefault("a"), 28, 32);
        Assert.Equal("Trailing garbage in weight string 3", await LuaControl.RunAsync(ctl, A + "return a:set_weight('2x') .. ' ' .. a:get_weight()"));
        Assert.Equal("Absolute weight can only be between 0 and 256 inclusive.", await LuaControl.RunAsync(ctl, A + "return a:set_weight('257')"));
        await LuaControl.RunAsync(ctl, A + "a:set_weight('1')");

        // Maintenance and drain: no new load-balanced traffic; ready brings it back.
        Assert.Equal("MAINT 1 false", await LuaControl.RunAsync(ctl, A + "a:set_maint(); " + State));
        Assert.Equal(10, (await SplitAsync(fe, 10)).GetValueOrDefault("b"));
        Assert.Equal("DRAIN 1 true", await LuaControl.RunAsync(ctl, A + "a:set_drain(); " + State));
        Assert.Equal(10, (await SplitAsync(fe, 10)).GetValueOrDefault("b"));
        Assert.Equal("no check 1 false", await LuaControl.RunAsync(ctl, A + "a:set_ready(); " + State));
        Assert.InRange((await SplitAsync(fe, 10)).GetValueOrDefault("a"), 4, 6);

        // Forced health (HAProxy's "set server ... health"): down and nolb take no traffic, up does.
        Assert.Equal("DOWN 1 false", await LuaControl.RunAsync(ctl, A + "a:check_force_down(); " + State));
        Assert.Equal(10, (await SplitAsync(fe, 10)).GetValueOrDefault("b"));
        Assert.Equal("NOLB 1 false", await LuaControl.RunAsync(ctl, A + "a:check_force_nolb(); " + State));
        Assert.Equal(10, (await SplitAsync(fe, 10)).GetValueOrDefault("b"));
        Assert.Equal("no check 1 false", await LuaControl.RunAsync(ctl, A + "a:check_force_up(); " + State));

        // Without an agent (HaLua has no agent checks) the agent functions do nothing, as in HAProxy.
        Assert.Equal("no check 1 false", await LuaControl.RunAsync(ctl, A + "a:agent_enable(); a:agent_force_down(); a:agent_disable(); " + State));
        Assert.InRange((await SplitAsync(fe, 10)).GetValueOrDefault("a"), 4, 6);
        Assert.Equal("no check 1 false", await LuaControl.RunAsync(ctl, A + "a:agent_force_up(); " + State));
    }

    [Fact]
    public async Task Checks_ForcedDisabledEnabled_FollowHaproxysRuntimeApi()
    {
        await using var c = new TestServer("c");
        await using var n = new TestServer("n");
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               lua-load ctl.lua
            defaults
               timeout connect 1s
               timeout client 5s
               timeout server 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               default_backend be
            backend be
               server c 127.0.0.1:{{c.Port}} check inter 100ms rise 2 fall 2
               server n 127.0.0.1:{{n.Port}}
            {{LuaControl.Section}}
            """, Files);
        int fe = h.Ports[0], ctl = h.Ports[1];
        const string C = "local c = core.backends.be.servers.c; ";
        const string Status = "return c:get_stats().status";
        var timeout = TimeSpan.FromSeconds(10);
        await LuaControl.WaitForAsync(ctl, C + "return c:get_stats().check_status", "L4OK", timeout);

        // Forced down with checks running: the health is 0, and passing checks bring it back up.
        Assert.StartsWith("DOWN", await LuaControl.RunAsync(ctl, C + "c:check_force_down(); " + Status));
        await LuaControl.WaitForAsync(ctl, C + Status, "UP", timeout);

        // A forced NOLB ends at the next good check, as in HAProxy.
        Assert.Equal("NOLB", await LuaControl.RunAsync(ctl, C + "c:check_force_nolb(); " + Status));
        await LuaControl.WaitForAsync(ctl, C + Status, "UP", timeout);

        // Checks disabled: the forced state stays, the check columns are gone, no traffic goes to c.
        Assert.Equal("DOWN nil", await LuaControl.RunAsync(ctl, C + "c:check_disable(); c:check_force_down(); local s = c:get_stats(); return s.status .. ' ' .. tostring(s.check_status)"));
        await Task.Delay(600);
        Assert.Equal("DOWN", await LuaControl.RunAsync(ctl, C + Status));
        Assert.Equal(6, (await SplitAsync(fe, 6)).GetValueOrDefault("n"));

        // Enabled again: the checks take it up after rise good ones.
        await LuaControl.RunAsync(ctl, C + "c:check_enable()");
        await LuaControl.WaitForAsync(ctl, C + Status, "UP", timeout);
        Assert.InRange((await SplitAsync(fe, 6)).GetValueOrDefault("c"), 2, 4);

        // A server declared without "check" has no checks to enable.
        Assert.Equal("no check nil", await LuaControl.RunAsync(ctl, "local n = core.backends.be.servers.n; n:check_enable(); local s = n:get_stats(); return s.status .. ' ' .. tostring(s.check_status)"));
    }

    [Fact]
    public async Task SetAddr_FromLua_SendsNewConnectionsToTheNewAddress()
    {
        await using var first = new TestServer("first");
        await using var second = new TestServer("second");
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               lua-load ctl.lua
            defaults
               timeout connect 2s
               timeout client 5s
               timeout server 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               default_backend be
            backend be
               server s 127.0.0.1:{{first.Port}}
            {{LuaControl.Section}}
            """, Files);
        int fe = h.Ports[0], ctl = h.Ports[1];
        const string S = "local s = core.backends.be.servers.s; ";
        Assert.Equal("first", await HaluaProcess.ExchangeAsync(fe));
        Assert.Equal($"127.0.0.1:{first.Port}", await LuaControl.RunAsync(ctl, S + "return s:get_addr()"));

        // HAProxy 2.x's set_addr(addr, port) returns what it did.
        Assert.Equal(
            $"no need to change the addr, port changed from '{first.Port}' to '{second.Port}' by 'Lua script'",
            await LuaControl.RunAsync(ctl, S + $"return s:set_addr('127.0.0.1', '{second.Port}')"));
        Assert.Equal("second", await HaluaProcess.ExchangeAsync(fe));
        Assert.Equal($"127.0.0.1:{second.Port} 127.0.0.1:{second.Port}", await LuaControl.RunAsync(ctl, S + "return s:get_addr() .. ' ' .. s:get_stats().addr"));

        // The address alone, and what HAProxy refuses (a name, an address with a port).
        Assert.Equal("no need to change the addr by 'Lua script'", await LuaControl.RunAsync(ctl, S + "return s:set_addr('127.0.0.1')"));
        Assert.Equal("Invalid addr 'localhost' by 'Lua script'", await LuaControl.RunAsync(ctl, S + "return s:set_addr('localhost')"));
        Assert.Equal($"Invalid addr '127.0.0.1:{first.Port}' by 'Lua script'", await LuaControl.RunAsync(ctl, S + $"return s:set_addr('127.0.0.1:{first.Port}')"));
        Assert.Equal("second", await HaluaProcess.ExchangeAsync(fe));
        Assert.StartsWith("error: Server.set_addr: bad argument #2", await LuaControl.RunAsync(ctl, S + "return s:set_addr()"));
    }

    [Fact]
    public async Task ShutSessAndShutBcksess_CloseTheLiveTunnelsOfThoseServersOnly()
    {
        await using var e1 = LuaControl.NamedEcho("e1");
        await using var e2 = LuaControl.NamedEcho("e2");
        await using var bk = LuaControl.NamedEcho("bk");
        await using var h = await HaluaProcess.StartAsync($$"""
            global
               lua-load ctl.lua
            defaults
               timeout connect 2s
               timeout client 30s
               timeout server 30s
            frontend fe
               bind 127.0.0.1:{PORT0}
               default_backend be
            frontend fe2
               bind 127.0.0.1:{PORT2}
               default_backend be2
            backend be
               balance roundrobin
               server e1 127.0.0.1:{{e1.Port}}
               server e2 127.0.0.1:{{e2.Port}}
            backend be2
               server down 127.0.0.1:{{e1.Port}} disabled
               server bk 127.0.0.1:{{bk.Port}} backup
            {{LuaControl.Section}}
            """, Files);
        int ctl = h.Ports[1];
        var first = await LuaControl.OpenTunnelAsync(h.Ports[0]);
        var second = await LuaControl.OpenTunnelAsync(h.Ports[0]);
        var (t3, s3) = await LuaControl.OpenTunnelAsync(h.Ports[2]);
        // Round robin: one tunnel on each server of be.
        var (t1, t2) = first.Server == "e1" ? (first.Socket, second.Socket) : (second.Socket, first.Socket);
        using (t1)
        using (t2)
        using (t3)
        {
            Assert.Equal(new[] { "e1", "e2" }, new[] { first.Server, second.Server }.Order());
            Assert.Equal("bk", s3);
            Assert.Equal("1", await LuaControl.RunAsync(ctl, "return core.backends.be.servers.e1:get_stats().scur"));

            // A backend without backups: shut_bcksess closes nothing.
            await LuaControl.RunAsync(ctl, "core.backends.be:shut_bcksess()");
            await t1.SendAsync(Encoding.ASCII.GetBytes("ping"));
            Assert.Equal("ping", await LuaControl.ReadAsync(t1, TimeSpan.FromSeconds(5)));

            // shut_sess on e1: its tunnel ends, e2's goes on.
            await LuaControl.RunAsync(ctl, "core.backends.be.servers.e1:shut_sess()");
            Assert.Equal("", await LuaControl.ReadAsync(t1, TimeSpan.FromSeconds(5)));
            await t2.SendAsync(Encoding.ASCII.GetBytes("still"));
            Assert.Equal("still", await LuaControl.ReadAsync(t2, TimeSpan.FromSeconds(5)));
            await LuaControl.WaitForAsync(ctl, "return core.backends.be.servers.e1:get_stats().scur", "0", TimeSpan.FromSeconds(5));

            // shut_bcksess on be2: the stream on its backup server ends.
            await LuaControl.RunAsync(ctl, "core.backends.be2:shut_bcksess()");
            Assert.Equal("", await LuaControl.ReadAsync(t3, TimeSpan.FromSeconds(5)));
            await t2.SendAsync(Encoding.ASCII.GetBytes("again"));
            Assert.Equal("again", await LuaControl.ReadAsync(t2, TimeSpan.FromSeconds(5)));
        }

        // Killed streams are neither client nor server aborts.
        Assert.Equal("0 0", await LuaControl.RunAsync(ctl, "local s = core.backends.be.servers.e1:get_stats(); return s.cli_abrt .. ' ' .. s.srv_abrt"));
    }
}
