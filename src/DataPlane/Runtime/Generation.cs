using HaLua.DataPlane.Config;
using HaLua.DataPlane.Lua;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Runtime;

/// <summary>
/// Everything built from one configuration: proxies, servers, Lua states. Immutable in shape;
/// a reload builds a new generation and streams in flight finish on the one they started on.
/// </summary>
internal sealed class Generation : IDisposable
{
    private volatile LuaEngine _lua;

    public Generation(HaLuaConfig config, LuaEngine lua, SampleRegistry samples, IReadOnlyList<ProxyRuntime> proxies)
    {
        Config = config;
        _lua = lua;
        Samples = samples;
        Proxies = proxies;
    }

    public HaLuaConfig Config { get; }

    /// <summary>The running Lua engine: replaced whole by a hot reload (<see cref="DataPlaneHost.ReloadLua"/>).</summary>
    public LuaEngine Lua => _lua;

    /// <summary>1 at start, then one more per successful hot reload.</summary>
    public long LuaGeneration { get; private set; } = 1;

    /// <summary>Lua errors of the engines a reload replaced (for the status's running total).</summary>
    public long RetiredLuaErrors { get; set; }

    /// <summary>
    /// The counters of the Lua states a reload replaced, by state name (<see cref="LuaState.DisplayName"/>),
    /// so that the metrics' totals go on across reloads. Replaced whole at each reload.
    /// </summary>
    public IReadOnlyDictionary<string, LuaStateStats> RetiredLuaStats { get; private set; } = new Dictionary<string, LuaStateStats>();

    internal void RetireLuaStats(IEnumerable<LuaState> states)
    {
        var retired = RetiredLuaStats.ToDictionary(kv => kv.Key, kv => Copy(kv.Value), StringComparer.Ordinal);
        foreach (var st in states)
        {
            if (!retired.TryGetValue(st.DisplayName, out var total))
            {
                retired[st.DisplayName] = total = new LuaStateStats();
            }

            total.Add(st.Stats);
        }

        RetiredLuaStats = retired;
    }

    private static LuaStateStats Copy(LuaStateStats stats)
    {
        var copy = new LuaStateStats();
        copy.Add(stats);
        return copy;
    }

    internal void SwapLua(LuaEngine next)
    {
        _lua = next;
        LuaGeneration++;
    }

    public SampleRegistry Samples { get; }

    public IReadOnlyList<ProxyRuntime> Proxies { get; }

    /// <summary>HAProxy's <c>show info</c> of the process running this generation.</summary>
    public Stats.ProcessInfo Info { get; init; } = null!;

    public ProxyRuntime? FindBackend(string name) => Proxies.FirstOrDefault(p => p.IsBackend && p.Name == name);

    public int UsableServers(string backend) => FindBackend(backend)?.Backend?.UsableServers ?? -1;

    public void Dispose()
    {
        foreach (var server in Proxies.Where(p => p.Backend is not null).SelectMany(p => p.Backend!.Servers))
        {
            server.IdleConnections.Dispose();
        }

        Lua.Dispose();
    }
}
