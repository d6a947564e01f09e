using System.Net;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Model;

namespace HaLua.DataPlane.LoadBalancing;

/// <summary>A load-balancing policy (HAProxy's <c>balance</c>).</summary>
internal interface ILoadBalancer
{
    string Name { get; }

    /// <summary>Called when the server list is (re)built.</summary>
    void Reset(IReadOnlyList<ServerState> servers);

    /// <summary>
    /// A usable server with a free slot, or null. Active servers first; backups only when no
    /// active server is usable (the first usable backup, as HAProxy without allbackups).
    /// <paramref name="avoid"/> is skipped when another server can take the request (redispatch).
    /// </summary>
    ServerState? Pick(BackendState backend, IPAddress? source, ServerState? avoid);
}

/// <summary>The config word → policy table.</summary>
internal static class LoadBalancers
{
    public const string RoundRobin = "roundrobin";
    public const string StaticRoundRobin = "static-rr";
    public const string LeastConn = "leastconn";
    public const string First = "first";
    public const string Source = "source";

    public static ILoadBalancer Create(BalanceAlgorithm algorithm) => algorithm switch
    {
        BalanceAlgorithm.RoundRobin => new RoundRobinBalancer(dynamic: true),
        BalanceAlgorithm.StaticRoundRobin => new RoundRobinBalancer(dynamic: false),
        BalanceAlgorithm.LeastConn => new LeastConnBalancer(),
        BalanceAlgorithm.First => new FirstBalancer(),
        BalanceAlgorithm.Source => new SourceBalancer(),
        _ => throw new ArgumentOutOfRangeException(nameof(algorithm)),
    };

    /// <summary>Usable, free, not avoided.</summary>
    internal static bool Eligible(ServerState s, ServerState? avoid) => s.IsUsable && s.HasFreeSlot && s != avoid;

    /// <summary>Whether any active server is eligible; when none and <paramref name="avoid"/> was the only one, it is allowed again.</summary>
    internal static ServerState? BackupOrAvoided(BackendState backend, ServerState? avoid)
    {
        foreach (var s in backend.Servers)
        {
            if (s.IsBackup && Eligible(s, avoid))
            {
                return s;
            }
        }

        return avoid is not null && avoid.IsUsable && avoid.HasFreeSlot ? avoid : null;
    }
}

/// <summary>
/// roundrobin / static-rr: smooth weighted round robin. Each pick adds every eligible server's
/// weight to its credit and takes the server with the most credit, which then pays the total:
/// exactly proportional over a cycle and evenly interleaved (1/2/3 gives c b a c b c...).
/// roundrobin follows weight changes at the next pick; static-rr keeps the configured weights.
/// </summary>
internal sealed class RoundRobinBalancer(bool dynamic) : ILoadBalancer
{
    private readonly object _lock = new();
    private long[] _credit = [];

    public string Name => dynamic ? LoadBalancers.RoundRobin : LoadBalancers.StaticRoundRobin;

    public void Reset(IReadOnlyList<ServerState> servers)
    {
        lock (_lock)
        {
            _credit = new long[servers.Count];
        }
    }

    public ServerState? Pick(BackendState backend, IPAddress? source, ServerState? avoid)
    {
        var servers = backend.Servers;
        lock (_lock)
        {
            if (_credit.Length != servers.Count)
            {
                _credit = new long[servers.Count];
            }

            long total = 0;
            int best = -1;
            for (int i = 0; i < servers.Count; i++)
            {
                var s = servers[i];
                if (s.IsBackup || !LoadBalancers.Eligible(s, avoid))
                {
                    continue;
                }

                int w = dynamic || s.Weight == 0 ? s.Weight : s.InitialWeight;
                _credit[i] += w;
                total += w;
                if (best < 0 || _credit[i] > _credit[best])
                {
                    best = i;
                }
            }

            if (best >= 0)
            {
                _credit[best] -= total;
                return servers[best];
            }
        }

        return LoadBalancers.BackupOrAvoided(backend, avoid);
    }
}

/// <summary>leastconn: the fewest sessions per unit of weight; ties rotate.</summary>
internal sealed class LeastConnBalancer : ILoadBalancer
{
    private int _rotor;

    public string Name => LoadBalancers.LeastConn;

    public void Reset(IReadOnlyList<ServerState> servers)
    {
    }

    public ServerState? Pick(BackendState backend, IPAddress? source, ServerState? avoid)
    {
        var servers = backend.Servers;
        int n = servers.Count;
        int start = n == 0 ? 0 : (int)((uint)Interlocked.Increment(ref _rotor) % (uint)n);
        ServerState? best = null;
        for (int k = 0; k < n; k++)
        {
            var s = servers[(start + k) % n];
            if (s.IsBackup || !LoadBalancers.Eligible(s, avoid))
            {
                continue;
            }

            // sessions/weight compared without division: a/wa < b/wb  <=>  a*wb < b*wa
            if (best is null || (long)s.Sessions * best.Weight < (long)best.Sessions * s.Weight)
            {
                best = s;
            }
        }

        return best ?? LoadBalancers.BackupOrAvoided(backend, avoid);
    }
}

/// <summary>first: the first server (by id) with a free slot.</summary>
internal sealed class FirstBalancer : ILoadBalancer
{
    public string Name => LoadBalancers.First;

    public void Reset(IReadOnlyList<ServerState> servers)
    {
    }

    public ServerState? Pick(BackendState backend, IPAddress? source, ServerState? avoid)
    {
        foreach (var s in backend.Servers)
        {
            if (!s.IsBackup && LoadBalancers.Eligible(s, avoid))
            {
                return s;
            }
        }

        return LoadBalancers.BackupOrAvoided(backend, avoid);
    }
}

/// <summary>source: a hash of the client address over the weighted active servers (map-based, as HAProxy's default hash-type).</summary>
internal sealed class SourceBalancer : ILoadBalancer
{
    public string Name => LoadBalancers.Source;

    public void Reset(IReadOnlyList<ServerState> servers)
    {
    }

    public ServerState? Pick(BackendState backend, IPAddress? source, ServerState? avoid)
    {
        var servers = backend.Servers;
        long total = 0;
        foreach (var s in servers)
        {
            if (!s.IsBackup && s.IsUsable)
            {
                total += s.Weight;
            }
        }

        if (total > 0)
        {
            uint h = Hash(source);
            long slot = h % total;
            for (int i = 0; i < servers.Count; i++)
            {
                var s = servers[i];
                if (s.IsBackup || !s.IsUsable)
                {
                    continue;
                }

                slot -= s.Weight;
                if (slot < 0)
                {
                    if (s == avoid)
                    {
                        // Redispatch: the next active server after the avoided one.
                        return NextActive(servers, i, avoid) ?? LoadBalancers.BackupOrAvoided(backend, avoid);
                    }

                    return LoadBalancers.Eligible(s, avoid) ? s : null;
                }
            }
        }

        return LoadBalancers.BackupOrAvoided(backend, avoid);
    }

    private static ServerState? NextActive(IReadOnlyList<ServerState> servers, int from, ServerState avoid)
    {
        for (int k = 1; k < servers.Count; k++)
        {
            var s = servers[(from + k) % servers.Count];
            if (!s.IsBackup && LoadBalancers.Eligible(s, avoid))
            {
                return s;
            }
        }

        return null;
    }

    internal static uint Hash(IPAddress? address)
    {
        if (address is null)
        {
            return 0;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out int len);
        uint h = 2166136261;
        foreach (byte b in bytes[..len])
        {
            h = (h ^ b) * 16777619;
        }

        return h;
    }
}
