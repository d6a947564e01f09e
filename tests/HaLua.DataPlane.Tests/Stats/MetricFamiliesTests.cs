using System.Text.RegularExpressions;
using HaLua.DataPlane.Stats;

namespace HaLua.DataPlane.Tests.Stats;

/// <summary>The table of HAProxy's metric families: complete, and within Prometheus's naming rules.</summary>
public partial class MetricFamiliesTests
{
    private static readonly string[] KindNames = ["frontend", "listener", "backend", "server"];

    public static TheoryData<string> Kinds => new(KindNames);

    private static string[] Suffixes(string kind) => kind switch
    {
        "frontend" => MetricFamilies.Frontend,
        "listener" => MetricFamilies.Listener,
        "backend" => MetricFamilies.Backend,
        _ => MetricFamilies.Server,
    };

    [Theory]
    [MemberData(nameof(Kinds))]
    public void EveryFamilyOfAKind_IsDescribedOnce(string kind)
    {
        var suffixes = Suffixes(kind);
        Assert.Equal(suffixes.Length, suffixes.Distinct().Count());
        Assert.All(suffixes, s => Assert.True(MetricFamilies.Proxy.ContainsKey(s), $"haproxy_{kind}_{s} has no description"));
    }

    [Fact]
    public void EveryDescribedFamily_IsUsedByAKind()
        => Assert.All(MetricFamilies.Proxy.Keys, s => Assert.Contains(KindNames, k => Suffixes(k).Contains(s)));

    [Fact]
    public void Names_AreValid_CountersEndInTotal_GaugesDoNot()
    {
        var all = MetricFamilies.Process.Select(f => ("haproxy_process_" + f.Suffix, f.Counter, f.Help))
            .Concat(KindNames.SelectMany(k => Suffixes(k).Select(s => ($"haproxy_{k}_{s}", MetricFamilies.Proxy[s].Counter, MetricFamilies.Proxy[s].Help))));
        foreach (var (name, counter, help) in all)
        {
            Assert.Matches(MetricName(), name);
            Assert.True(counter == name.EndsWith("_total", StringComparison.Ordinal), $"{name}: counter={counter}");
            Assert.False(string.IsNullOrWhiteSpace(help));
        }
    }

    [GeneratedRegex("^[a-z_][a-z0-9_]*$")]
    private static partial Regex MetricName();
}
