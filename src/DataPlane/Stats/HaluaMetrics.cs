using System.Diagnostics.Metrics;
using HaLua.DataPlane.Lua;
using HaLua.DataPlane.Runtime;

namespace HaLua.DataPlane.Stats;

/// <summary>
/// What only HaLua knows, as observable instruments read at scrape time: the Lua states' counters
/// and memory (<c>halua_lua_*</c>, per state, running totals across hot reloads) and the Lua
/// reloads (<c>halua_control_lua_*</c>). The Lua duration histogram is <see cref="LuaMetrics"/>;
/// the admin API's calls are counted by the control plane.
/// </summary>
internal sealed class HaluaMetrics : IDisposable
{
    public const string MeterName = "HaLua";

    private readonly Meter _meter = new(MeterName);
    private readonly DataPlaneHost _host;

    public HaluaMetrics(DataPlaneHost host)
    {
        _host = host;
        Counter("halua_lua_executions_total", "Lua executions started (actions, fetches, converters, services, tasks, init and body), per Lua state", s => s.Executions);
        Counter("halua_lua_errors_total", "Lua executions that ended in an error (runtime error, timeout, out of memory), per Lua state", s => s.Errors);
        Counter("halua_lua_yields_total", "Times Lua executions yielded (waits, core.yield and forced yields), per Lua state", s => s.Yields);
        Counter("halua_lua_forced_yields_total", "Times long Lua slices were pre-empted (tune.lua.forced-yield), per Lua state", s => s.ForcedYields);
        Counter("halua_lua_timeouts_total", "Lua executions stopped by their timeout (tune.lua.*-timeout), per Lua state", s => s.Timeouts);
        _meter.CreateObservableGauge(
            "halua_lua_memory_bytes",
            () => _host.Generation.Lua.States.Select(st => new Measurement<double>(st.MeasureMemory(), State(st))).ToList(),
            null,
            "Memory used by each Lua state, in bytes");
        _meter.CreateObservableGauge(
            "halua_lua_memory_limit_bytes",
            () => _host.Generation.Lua.States.Select(st => new Measurement<double>(st.MemoryLimit, State(st))).ToList(),
            null,
            "Memory limit of each Lua state (tune.lua.maxmem), in bytes; 0 for none");
        _meter.CreateObservableGauge(
            "halua_control_lua_reload_generation",
            () => new Measurement<double>(_host.Generation.LuaGeneration),
            null,
            "The running Lua generation: 1 at start, one more per successful hot reload");
        _meter.CreateObservableCounter(
            "halua_control_lua_reload_failures_total",
            () => new Measurement<double>(_host.LuaReloadFailures),
            null,
            "Lua hot reloads refused (the running generation was kept)");
    }

    private void Counter(string name, string help, Func<LuaStateStats, long> value)
        => _meter.CreateObservableCounter(name, () => Observe(value), null, help);

    /// <summary>Per state: the live state's count plus those of the states it replaced.</summary>
    private List<Measurement<double>> Observe(Func<LuaStateStats, long> value)
    {
        var g = _host.Generation;
        var retired = g.RetiredLuaStats;
        var result = new List<Measurement<double>>();
        foreach (var st in g.Lua.States)
        {
            var live = new LuaStateStats();
            live.Add(st.Stats);
            long total = value(live) + (retired.TryGetValue(st.DisplayName, out var old) ? value(old) : 0);
            result.Add(new(total, State(st)));
        }

        return result;
    }

    private static KeyValuePair<string, object?> State(LuaState st) => new("state", st.DisplayName);

    public void Dispose() => _meter.Dispose();
}
