using System.Net;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.LoadBalancing;
using HaLua.DataPlane.Model;
using static HaLua.DataPlane.Tests.LoadBalancing.TestBackends;

namespace HaLua.DataPlane.Tests.LoadBalancing;

public sealed class LoadBalancerTests
{
    private static IPAddress Client(int i) => new([10, 0, (byte)(i >> 8), (byte)i]);

    [Theory]
    [InlineData(BalanceAlgorithm.RoundRobin, LoadBalancers.RoundRobin)]
    [InlineData(BalanceAlgorithm.StaticRoundRobin, LoadBalancers.StaticRoundRobin)]
    [InlineData(BalanceAlgorithm.LeastConn, LoadBalancers.LeastConn)]
    [InlineData(BalanceAlgorithm.First, LoadBalancers.First)]
    [InlineData(BalanceAlgorithm.Source, LoadBalancers.Source)]
    public void Create_EachAlgorithm_HasHAProxyName(BalanceAlgorithm algorithm, string name)
    {
        Assert.Equal(name, LoadBalancers.Create(algorithm).Name);
        Assert.Equal(name, Backend(algorithm, Srv("a")).Balancer.Name);
    }

    [Theory]
    [InlineData(BalanceAlgorithm.RoundRobin)]
    [InlineData(BalanceAlgorithm.StaticRoundRobin)]
    [InlineData(BalanceAlgorithm.LeastConn)]
    [InlineData(BalanceAlgorithm.First)]
    public void Pick_WeightZero_NeverPicked(BalanceAlgorithm algorithm)
    {
        var be = Backend(algorithm, Srv("a"), Srv("b"));
        be.FindServer("a")!.SetWeight(0);
        Assert.All(Picks(be, 20), n => Assert.Equal("b", n));
    }

    [Fact]
    public void LeastConn_PicksServerWithFewestConnections()
    {
        var be = Backend(BalanceAlgorithm.LeastConn, Srv("a"), Srv("b"), Srv("c"));
        var (a, b, c) = (be.Servers[0], be.Servers[1], be.Servers[2]);
        Take(a, 3);
        Take(b, 1);
        Take(c, 2);
        for (int i = 0; i < 5; i++)
        {
            Assert.Same(b, Pick(be));
        }

        Take(b, 2);
        Assert.Same(c, Pick(be));
        a.ReleaseSlot();
        a.ReleaseSlot();
        Assert.Same(a, Pick(be));
    }

    [Fact]
    public void LeastConn_ConnectionsPerWeight_FavoursHeavierServer()
    {
        var be = Backend(BalanceAlgorithm.LeastConn, Srv("light", 1), Srv("heavy", 4));
        Take(be.Servers[0], 1);
        Take(be.Servers[1], 3);
        Assert.Equal("heavy", Pick(be)!.Name);
        Take(be.Servers[1], 2);
        Assert.Equal("light", Pick(be)!.Name);
    }

    [Fact]
    public void LeastConn_Ties_Rotate()
    {
        var be = Backend(BalanceAlgorithm.LeastConn, Srv("a"), Srv("b"), Srv("c"));
        var counts = Count(Picks(be, 30));
        Assert.Equal([10, 10, 10], new[] { counts["a"], counts["b"], counts["c"] });
    }

    [Fact]
    public void LeastConn_TakingSlotsAsPicked_SpreadsEvenly()
    {
        var be = Backend(BalanceAlgorithm.LeastConn, Srv("a"), Srv("b"), Srv("c"));
        for (int i = 0; i < 9; i++)
        {
            Assert.True(Pick(be)!.TryTakeSlot());
        }

        Assert.All(be.Servers, s => Assert.Equal(3, s.Sessions));
    }

    [Fact]
    public void First_FillsServersInOrderUpToMaxconn()
    {
        var be = Backend(BalanceAlgorithm.First, Srv("a", maxconn: 2), Srv("b", maxconn: 2), Srv("c", maxconn: 2));
        var order = new List<string>();
        while (Pick(be) is { } s)
        {
            Assert.True(s.TryTakeSlot());
            order.Add(s.Name);
        }

        Assert.Equal(["a", "a", "b", "b", "c", "c"], order);

        be.Servers[1].ReleaseSlot();
        Assert.Equal("b", Pick(be)!.Name);
        be.Servers[0].ReleaseSlot();
        Assert.Equal("a", Pick(be)!.Name);
    }

    [Fact]
    public void First_WithoutMaxconn_AlwaysFirstServer()
    {
        var be = Backend(BalanceAlgorithm.First, Srv("a"), Srv("b"));
        Take(be.Servers[0], 1000);
        Assert.All(Picks(be, 10), n => Assert.Equal("a", n));
    }

    [Theory]
    [InlineData(BalanceAlgorithm.RoundRobin)]
    [InlineData(BalanceAlgorithm.LeastConn)]
    public void Pick_ServerAtMaxconn_IsSkipped(BalanceAlgorithm algorithm)
    {
        var be = Backend(algorithm, Srv("a", maxconn: 1), Srv("b"));
        Take(be.Servers[0], 1);
        Assert.All(Picks(be, 10), n => Assert.Equal("b", n));
    }

    [Fact]
    public void Source_SameAddress_AlwaysSameServer()
    {
        var be = Backend(BalanceAlgorithm.Source, Srv("a"), Srv("b"), Srv("c"), Srv("d"));
        for (int i = 0; i < 100; i++)
        {
            var ip = Client(i);
            var first = Pick(be, ip);
            Assert.NotNull(first);
            for (int k = 0; k < 5; k++)
            {
                Assert.Same(first, Pick(be, ip));
            }

            Assert.Same(first, Pick(be, IPAddress.Parse(ip.ToString())));
            Assert.Same(first, Pick(be, ip.MapToIPv6()));
        }
    }

    [Fact]
    public void Source_DifferentAddresses_SpreadOverAllServers()
    {
        var be = Backend(BalanceAlgorithm.Source, Srv("a"), Srv("b"), Srv("c"), Srv("d"));
        var counts = Count(Enumerable.Range(0, 400).Select(i => Pick(be, Client(i))!.Name));
        Assert.Equal(4, counts.Count);
        Assert.All(counts.Values, n => Assert.InRange(n, 60, 140));
    }

    [Fact]
    public void Source_Weights_SharesAddressesByWeight()
    {
        var be = Backend(BalanceAlgorithm.Source, Srv("a", 3), Srv("b", 1));
        var counts = Count(Enumerable.Range(0, 400).Select(i => Pick(be, Client(i))!.Name));
        Assert.InRange(counts["a"], 240, 360);
        Assert.InRange(counts["b"], 40, 160);
    }

    [Fact]
    public void Source_IPv6Clients_AreStableAndSpread()
    {
        var be = Backend(BalanceAlgorithm.Source, Srv("a"), Srv("b"));
        var names = Enumerable.Range(0, 100).Select(i => IPAddress.Parse($"2001:db8::{i:x}")).Select(ip => (Pick(be, ip)!.Name, Again: Pick(be, ip)!.Name)).ToList();
        Assert.All(names, p => Assert.Equal(p.Name, p.Again));
        Assert.Equal(2, names.Select(p => p.Name).Distinct().Count());
    }

    public static TheoryData<BalanceAlgorithm> AllAlgorithms => new(Enum.GetValues<BalanceAlgorithm>());

    [Theory]
    [MemberData(nameof(AllAlgorithms))]
    public void Pick_BackupServers_OnlyWhenAllActiveAreDown(BalanceAlgorithm algorithm)
    {
        var be = Backend(algorithm, Srv("a"), Srv("b"), Srv("spare1", backup: true), Srv("spare2", backup: true));
        var (a, b) = (be.Servers[0], be.Servers[1]);
        Assert.All(PicksFromClients(be, 50), n => Assert.Contains(n, new[] { "a", "b" }));

        a.SetOper(ServerOperState.Down, "test");
        Assert.All(PicksFromClients(be, 50), n => Assert.Equal("b", n));

        b.SetOper(ServerOperState.Down, "test");
        Assert.Equal(0, be.UsableServers);
        Assert.All(PicksFromClients(be, 50), n => Assert.Equal("spare1", n));

        be.Servers[2].SetAdmin(ServerAdminState.Maint, "test");
        Assert.All(PicksFromClients(be, 50), n => Assert.Equal("spare2", n));

        a.SetOper(ServerOperState.Up, "test");
        Assert.All(PicksFromClients(be, 50), n => Assert.Equal("a", n));
    }

    [Theory]
    [MemberData(nameof(AllAlgorithms))]
    public void Pick_DownMaintDrainOrDisabledServer_NeverPicked(BalanceAlgorithm algorithm)
    {
        var be = Backend(algorithm, Srv("down"), Srv("disabled", disabled: true), Srv("ok"), Srv("maint"), Srv("drain"), Srv("nolb"));
        be.FindServer("down")!.SetOper(ServerOperState.Down, "test");
        be.FindServer("maint")!.SetAdmin(ServerAdminState.Maint, "test");
        be.FindServer("drain")!.SetAdmin(ServerAdminState.Drain, "test");
        be.FindServer("nolb")!.SetOper(ServerOperState.NoLb, "test");
        Assert.Equal(ServerAdminState.Maint, be.FindServer("disabled")!.Admin);

        Assert.All(PicksFromClients(be, 200), n => Assert.Equal("ok", n));
    }

    [Theory]
    [MemberData(nameof(AllAlgorithms))]
    public void Pick_AllServersDown_ReturnsNull(BalanceAlgorithm algorithm)
    {
        var be = Backend(algorithm, Srv("a"), Srv("b"), Srv("spare", backup: true));
        foreach (var s in be.Servers)
        {
            s.SetOper(ServerOperState.Down, "test");
        }

        Assert.Null(Pick(be, Client(1)));
    }

    [Theory]
    [MemberData(nameof(AllAlgorithms))]
    public void Pick_Avoid_PicksAnotherServerWhenOneIsUp(BalanceAlgorithm algorithm)
    {
        var be = Backend(algorithm, Srv("a"), Srv("b"), Srv("c"));
        foreach (var avoided in be.Servers)
        {
            for (int i = 0; i < 50; i++)
            {
                var s = Pick(be, Client(i), avoided);
                Assert.NotNull(s);
                Assert.NotSame(avoided, s);
            }
        }
    }

    [Theory]
    [MemberData(nameof(AllAlgorithms))]
    public void Pick_AvoidTheOnlyUsableServer_GivesItAnyway(BalanceAlgorithm algorithm)
    {
        var be = Backend(algorithm, Srv("a"), Srv("b"));
        be.Servers[1].SetOper(ServerOperState.Down, "test");
        Assert.Same(be.Servers[0], Pick(be, Client(1), be.Servers[0]));
    }

    [Theory]
    [MemberData(nameof(AllAlgorithms))]
    public void Pick_AvoidLastActive_PrefersUsableBackup(BalanceAlgorithm algorithm)
    {
        var be = Backend(algorithm, Srv("a"), Srv("b"), Srv("spare", backup: true));
        be.Servers[1].SetOper(ServerOperState.Down, "test");
        Assert.Equal("spare", Pick(be, Client(1), be.Servers[0])!.Name);
    }

    private static List<string> PicksFromClients(BackendState be, int count) =>
        [.. Enumerable.Range(0, count).Select(i => Pick(be, Client(i))?.Name ?? "(none)")];

    private static void Take(ServerState s, int n)
    {
        for (int i = 0; i < n; i++)
        {
            Assert.True(s.TryTakeSlot());
        }
    }
}
