using HaLua.DataPlane.Config;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Runtime;
using static HaLua.DataPlane.Tests.LoadBalancing.TestBackends;

namespace HaLua.DataPlane.Tests.Runtime;

/// <summary>
/// The runtime operations Lua, the CLI and gRPC share, against HAProxy 2.6.12's answers to the
/// same requests (observed with its stats socket and Lua).
/// </summary>
public class RuntimeOperationsTests
{
    [Theory]
    [InlineData("0", null, 0)]
    [InlineData("256", null, 256)]
    [InlineData("+3", null, 3)]
    [InlineData(" 4", null, 4)]
    [InlineData("50%", null, 5)]
    [InlineData("15%", null, 1)] // rounded down
    [InlineData("5%", null, 0)]
    [InlineData("101%", null, 10)]
    [InlineData("257%", null, 25)]
    [InlineData("99999%", null, 256)]
    [InlineData("", "Require <weight> or <weight%>.", 7)]
    [InlineData("abc", "Empty weight string empty or preceded by garbage", 7)]
    [InlineData("%", "Empty weight string empty or preceded by garbage", 7)]
    [InlineData("8 ", "Trailing garbage in weight string", 7)]
    [InlineData("0x10", "Trailing garbage in weight string", 7)]
    [InlineData("1.5", "Trailing garbage in weight string", 7)]
    [InlineData("5%%", "Trailing garbage in weight string", 7)]
    [InlineData("-1", "Absolute weight can only be between 0 and 256 inclusive.", 7)]
    [InlineData("257", "Absolute weight can only be between 0 and 256 inclusive.", 7)]
    [InlineData("-1%", "Relative weight must be positive.", 7)]
    public void SetWeight_HaproxyForms_HaproxysResultAndMessage(string text, string? message, int weight)
    {
        var be = Backend(BalanceAlgorithm.RoundRobin, Srv("s", weight: 10));
        var s = be.Servers[0];
        s.SetWeight(7);
        Assert.Equal(message, RuntimeOperations.SetWeight(s, text));
        Assert.Equal(weight, s.Weight);
    }

    [Theory]
    [InlineData(BalanceAlgorithm.StaticRoundRobin)]
    [InlineData(BalanceAlgorithm.Source)]
    public void SetWeight_StaticAlgorithm_OnlyZeroOrTheInitialWeight(BalanceAlgorithm algorithm)
    {
        var s = Backend(algorithm, Srv("s", weight: 10)).Servers[0];
        Assert.Equal("Backend is using a static LB algorithm and only accepts weights '0%' and '100%'.", RuntimeOperations.SetWeight(s, "50%"));
        Assert.Null(RuntimeOperations.SetWeight(s, "0%"));
        Assert.Equal(0, s.Weight);
        Assert.Null(RuntimeOperations.SetWeight(s, "10"));
        Assert.Equal("10 (initial 10)", RuntimeOperations.GetWeight(s));
    }

    [Fact]
    public void SetState_EachStateReplacesTheOthers_LeavingMaintenanceMakesItUp()
    {
        var be = Backend(BalanceAlgorithm.RoundRobin, Srv("s"), Srv("t"));
        var s = be.Servers[0];
        Assert.Null(RuntimeOperations.SetState(s, "drain", RuntimeOperations.CliUpdater));
        Assert.Equal(("DRAIN", true), (s.StatusText, s.IsDraining));
        Assert.Null(RuntimeOperations.SetState(s, "maint", RuntimeOperations.CliUpdater));
        Assert.Equal(("MAINT", false), (s.StatusText, s.IsDraining));
        Assert.Null(RuntimeOperations.SetState(s, "drain", RuntimeOperations.CliUpdater));
        Assert.Equal("DRAIN", s.StatusText);

        // Down, then maintenance, then ready: up again (HAProxy: leaving maintenance, a server without checks is up).
        RuntimeOperations.SetHealth(s, ServerOperState.Down, RuntimeOperations.LuaUpdater);
        RuntimeOperations.SetState(s, ServerAdminState.Maint, RuntimeOperations.LuaUpdater);
        RuntimeOperations.SetState(s, ServerAdminState.Ready, RuntimeOperations.LuaUpdater);
        Assert.Equal(("no check", true), (s.StatusText, s.IsUsable));
        Assert.Equal("'set server <srv> state' expects 'ready', 'drain' and 'maint'.", RuntimeOperations.SetState(s, "up", RuntimeOperations.CliUpdater));
    }

    [Fact]
    public void SetHealth_WithChecks_StatusShowsTheHealthOnItsWay()
    {
        var cfg = Srv("c") with { Check = true, Rise = 2, Fall = 3 };
        var s = Backend(BalanceAlgorithm.RoundRobin, cfg).Servers[0];
        Assert.Equal("UP", s.StatusText);
        RuntimeOperations.SetHealth(s, "down", RuntimeOperations.CliUpdater);
        Assert.Equal((0, "DOWN", 1L), (s.CheckHealth, s.StatusText, s.Counters.ChkDown));
        s.CheckHealth = 1;
        Assert.Equal("DOWN 1/2", s.StatusText);
        RuntimeOperations.SetHealth(s, "up", RuntimeOperations.CliUpdater);
        Assert.Equal((4, "UP"), (s.CheckHealth, s.StatusText));
        s.CheckHealth = 3;
        Assert.Equal("UP 2/3", s.StatusText);
        RuntimeOperations.SetState(s, ServerAdminState.Drain, RuntimeOperations.CliUpdater);
        Assert.Equal("DRAIN 2/3", s.StatusText);
        RuntimeOperations.SetHealth(s, "stopping", RuntimeOperations.CliUpdater);
        Assert.Equal("NOLB", s.StatusText);
        Assert.Equal("'set server <srv> health' expects 'up', 'stopping', or 'down'.", RuntimeOperations.SetHealth(s, "sideways", RuntimeOperations.CliUpdater));

        // Disabled checks: the state stays as forced and the status says so without the check's health.
        Assert.Null(RuntimeOperations.DisableHealth(s));
        RuntimeOperations.SetHealth(s, "up", RuntimeOperations.CliUpdater);
        RuntimeOperations.SetState(s, ServerAdminState.Ready, RuntimeOperations.CliUpdater);
        Assert.Equal("no check", s.StatusText);
        Assert.Null(RuntimeOperations.EnableHealth(s));
        Assert.Equal("UP", s.StatusText);
    }

    [Fact]
    public void ChecksAndAgents_NotConfigured_HaproxysRefusals()
    {
        var s = Backend(BalanceAlgorithm.RoundRobin, Srv("s")).Servers[0];
        Assert.Equal("Health check was not configured on this server, cannot enable.", RuntimeOperations.EnableHealth(s));
        Assert.Null(RuntimeOperations.DisableHealth(s));
        Assert.False(s.CheckEnabled);
        Assert.Equal("Agent was not configured on this server, cannot enable.", RuntimeOperations.EnableAgent(s));
        Assert.Null(RuntimeOperations.DisableAgent(s));
        Assert.Equal("agent checks are not enabled on this server.", RuntimeOperations.SetAgent(s, "down"));
        Assert.Equal(("no check", true), (s.StatusText, s.IsUsable));
    }

    [Theory]
    [InlineData("127.0.0.2", null, true, "IP changed from '127.0.0.1' to '127.0.0.2' by 'Lua script'", "127.0.0.2:10000")]
    [InlineData("127.0.0.1", null, false, "no need to change the addr by 'Lua script'", "127.0.0.1:10000")]
    [InlineData("127.0.0.1", "10000", false, "no need to change the addr, no need to change the port by 'Lua script'", "127.0.0.1:10000")]
    [InlineData("127.0.0.1", "8080", true, "no need to change the addr, port changed from '10000' to '8080' by 'Lua script'", "127.0.0.1:8080")]
    [InlineData("::1", "8080", true, "IP changed from '127.0.0.1' to '::1', port changed from '10000' to '8080' by 'Lua script'", "::1:8080")]
    [InlineData("127.0.0.3", "x", true, "IP changed from '127.0.0.1' to '127.0.0.3', problem converting port 'x' to an int by 'Lua script'", "127.0.0.3:10000")]
    [InlineData("127.0.0.3", "70000", true, "IP changed from '127.0.0.1' to '127.0.0.3', problem converting port '70000' to an int by 'Lua script'", "127.0.0.3:10000")]
    [InlineData("nope", "8080", false, "Invalid addr 'nope' by 'Lua script'", "127.0.0.1:10000")]
    [InlineData("localhost", null, false, "Invalid addr 'localhost' by 'Lua script'", "127.0.0.1:10000")]
    [InlineData("127.1", null, false, "Invalid addr '127.1' by 'Lua script'", "127.0.0.1:10000")]
    [InlineData("127.0.0.1:80", null, false, "Invalid addr '127.0.0.1:80' by 'Lua script'", "127.0.0.1:10000")]
    [InlineData("[::1]", null, false, "Invalid addr '[::1]' by 'Lua script'", "127.0.0.1:10000")]
    public void SetAddress_Forms_HaproxysMessage_AndTheNewAddressWhenValid(string addr, string? port, bool changed, string message, string after)
    {
        var s = Backend(BalanceAlgorithm.RoundRobin, Srv("s")).Servers[0];
        Assert.Equal((changed, message), RuntimeOperations.SetAddress(s, addr, port, RuntimeOperations.LuaUpdater));
        Assert.Equal(after, RuntimeOperations.AddressText(s));
    }

    [Fact]
    public void ShutdownSessions_KillsTheStreamsOfThatServer_ShutBcksessThoseOfBackups()
    {
        var cfg = new ProxyConfig("be", ProxyCapabilities.Backend, new SourceLocation("t.cfg", 1)) { Servers = [Srv("a"), Srv("bk", backup: true)] };
        var px = new ProxyRuntime(cfg, 100);
        var be = px.Backend!;
        be.SetServers([.. cfg.Servers.Select((c, i) => new ServerState(c, i + 1, be, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 10_000 + i)))]);
        var (a, bk) = (be.Servers[0], be.Servers[1]);
        Link first = new(), second = new(), gone = new(), backup = new();
        a.Streams.Add(first);
        a.Streams.Add(gone);
        a.Streams.Add(second);
        bk.Streams.Add(backup);
        a.Streams.Remove(gone);
        a.Streams.Add(first); // already there: once
        Assert.Equal(2, a.Streams.Count);

        Assert.Equal(1, RuntimeOperations.ShutdownBackupSessions(px));
        Assert.Equal((false, false, true), (first.Killed, second.Killed, backup.Killed));
        Assert.Equal(2, RuntimeOperations.ShutdownSessions(a));
        Assert.Equal((true, true, false), (first.Killed, second.Killed, gone.Killed));
    }

    private sealed class Link : StreamLink
    {
        protected override void OnKill()
        {
        }
    }
}
