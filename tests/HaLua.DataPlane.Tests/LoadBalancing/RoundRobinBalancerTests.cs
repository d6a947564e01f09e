using System.Globalization;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Model;
using static HaLua.DataPlane.Tests.LoadBalancing.TestBackends;

namespace HaLua.DataPlane.Tests.LoadBalancing;

/// <summary>roundrobin and static-rr: HAProxy's smooth weighted round robin.</summary>
public sealed class RoundRobinBalancerTests
{
    [Theory]
    [InlineData(BalanceAlgorithm.RoundRobin)]
    [InlineData(BalanceAlgorithm.StaticRoundRobin)]
    public void RoundRobin_Weights123_600Picks_ExactlyProportional(BalanceAlgorithm algorithm)
    {
        var be = Backend(algorithm, Srv("a", 1), Srv("b", 2), Srv("c", 3));
        var counts = Count(Picks(be, 600));
        Assert.Equal(100, counts["a"]);
        Assert.Equal(200, counts["b"]);
        Assert.Equal(300, counts["c"]);
    }

    [Fact]
    public void RoundRobin_Weights123_Interleaves()
    {
        var be = Backend(BalanceAlgorithm.RoundRobin, Srv("a", 1), Srv("b", 2), Srv("c", 3));
        Assert.Equal(["c", "b", "a", "c", "b", "c", "c", "b", "a", "c", "b", "c"], Picks(be, 12));
    }

    [Fact]
    public void RoundRobin_Weights511_SpreadsTheLightServersInsideTheCycle()
    {
        var be = Backend(BalanceAlgorithm.RoundRobin, Srv("heavy", 5), Srv("b", 1), Srv("c", 1));
        var picks = Picks(be, 70);

        // Not "heavy heavy heavy heavy heavy b c": the light servers come inside the cycle.
        Assert.Equal(["heavy", "heavy", "b", "heavy", "c", "heavy", "heavy"], picks[..7]);
        int longestRun = 0;
        int run = 0;
        foreach (var p in picks)
        {
            run = p == "heavy" ? run + 1 : 0;
            longestRun = Math.Max(longestRun, run);
        }

        Assert.True(longestRun < 5, $"heavy picked {longestRun} times in a row");
    }

    [Theory]
    [InlineData(new[] { 5, 1, 1 })]
    [InlineData(new[] { 1, 2, 3 })]
    [InlineData(new[] { 3, 2 })]
    [InlineData(new[] { 4, 3, 2, 1 })]
    [InlineData(new[] { 7, 7, 1 })]
    [InlineData(new[] { 10, 1 })]
    public void RoundRobin_AnyWindowOfTotalWeightPicks_HoldsEachServerWeightTimes(int[] weights)
    {
        var be = Backend(BalanceAlgorithm.RoundRobin, [.. weights.Select((w, i) => Srv($"s{i}", w))]);
        int total = weights.Sum();
        var picks = Picks(be, total * 10);

        for (int start = 0; start + total <= picks.Count; start++)
        {
            var window = Count(picks.Skip(start).Take(total));
            for (int i = 0; i < weights.Length; i++)
            {
                Assert.Equal(weights[i], window.GetValueOrDefault($"s{i}"));
            }
        }

        // Smooth: after any number of picks each server is less than one pick away from its exact share.
        var seen = new int[weights.Length];
        for (int n = 1; n <= picks.Count; n++)
        {
            seen[int.Parse(picks[n - 1].AsSpan(1), CultureInfo.InvariantCulture)]++;
            for (int i = 0; i < weights.Length; i++)
            {
                double ideal = (double)n * weights[i] / total;
                Assert.True(Math.Abs(seen[i] - ideal) < 1.0, $"after {n} picks s{i} has {seen[i]}, ideal {ideal:F2}");
            }
        }
    }

    [Fact]
    public void RoundRobin_WeightChange_TakesEffectAtNextPicks()
    {
        var be = Backend(BalanceAlgorithm.RoundRobin, Srv("a", 1), Srv("b", 1));
        var before = Count(Picks(be, 100));
        Assert.Equal((50, 50), (before["a"], before["b"]));

        var a = be.FindServer("a")!;
        a.SetWeight(3);
        Assert.Equal(3, a.Weight);
        var after = Count(Picks(be, 400));
        Assert.Equal((300, 100), (after["a"], after["b"]));

        // A percentage is of the initial weight (1 here), not of the current one.
        Assert.Null(a.SetWeight("100%"));
        Assert.Equal(1, a.Weight);
        var half = Count(Picks(be, 100));
        Assert.Equal((50, 50), (half["a"], half["b"]));
    }

    [Fact]
    public void StaticRoundRobin_WeightChange_KeepsConfiguredWeights()
    {
        var be = Backend(BalanceAlgorithm.StaticRoundRobin, Srv("a", 1), Srv("b", 3));
        be.FindServer("a")!.SetWeight(3);
        var counts = Count(Picks(be, 400));
        Assert.Equal((100, 300), (counts["a"], counts["b"]));
    }

    [Fact]
    public void RoundRobin_ServerBackUp_RejoinsRotation()
    {
        var be = Backend(BalanceAlgorithm.RoundRobin, Srv("a"), Srv("b"));
        be.Servers[0].SetOper(ServerOperState.Down, "test");
        Assert.All(Picks(be, 10), n => Assert.Equal("b", n));
        be.Servers[0].SetOper(ServerOperState.Up, "test");
        var counts = Count(Picks(be, 100));
        Assert.InRange(counts["a"], 49, 51);
    }
}
