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
    public Generation(HaLuaConfig config, LuaEngine lua, SampleRegistry samples, IReadOnlyList<ProxyRuntime> proxies)
    {
        Config = config;
        Lua = lua;
        Samples = samples;
        Proxies = proxies;
    }

    public HaLuaConfig Config { get; }

    public LuaEngine Lua { get; }

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
