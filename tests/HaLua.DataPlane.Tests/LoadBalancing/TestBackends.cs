using System.Net;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Model;

namespace HaLua.DataPlane.Tests.LoadBalancing;

/// <summary>Real backends and servers, built as the generation builder builds them.</summary>
internal static class TestBackends
{
    private static readonly SourceLocation Loc = new("lb.cfg", 1);

    public static ServerConfig Srv(string name, int weight = 1, bool backup = false, bool disabled = false, int maxconn = 0) =>
        new(name, "127.0.0.1", 80, Loc) { Weight = weight, Backup = backup, Disabled = disabled, MaxConn = maxconn };

    public static BackendState Backend(BalanceAlgorithm algorithm, params ServerConfig[] servers)
    {
        var be = new BackendState(new ProxyConfig("be", ProxyCapabilities.Backend, Loc) { Balance = algorithm, Servers = [.. servers] });
        be.SetServers([.. servers.Select((s, i) => new ServerState(s, i + 1, be, new IPEndPoint(IPAddress.Loopback, 10_000 + i)))]);
        return be;
    }

    public static ServerState? Pick(BackendState be, IPAddress? source = null, ServerState? avoid = null) => be.Balancer.Pick(be, source, avoid);

    public static List<string> Picks(BackendState be, int count) => [.. Enumerable.Range(0, count).Select(_ => Pick(be)!.Name)];

    public static Dictionary<string, int> Count(IEnumerable<string> names) => names.GroupBy(n => n).ToDictionary(g => g.Key, g => g.Count());
}
