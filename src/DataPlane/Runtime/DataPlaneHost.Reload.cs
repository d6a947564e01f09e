using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Lua;

namespace HaLua.DataPlane.Runtime;

/// <summary>The outcome of a Lua hot reload: the new generation number, or why nothing changed.</summary>
internal sealed record LuaReloadResult(bool Done, long Generation, IReadOnlyList<string> Errors);

internal sealed partial class DataPlaneHost
{
    private readonly SemaphoreSlim _reloadLock = new(1, 1);
    private Dictionary<string, byte[]> _luaSources = new(StringComparer.Ordinal);
    private long _luaReloadFailures;

    /// <summary>Lua reloads refused since the start (nothing changed).</summary>
    public long LuaReloadFailures => Interlocked.Read(ref _luaReloadFailures);

    /// <summary>Raised after each successful reload, with the new generation number.</summary>
    public event Action<long>? LuaReloaded;

    /// <summary>Lua engines replaced by a reload and not freed yet (streams that started before it still run).</summary>
    public int DrainingLuaEngines => _epochs.Count;

    /// <summary>
    /// Lua hot reload: loads the scripts again (with <paramref name="sources"/> replacing the files
    /// they name by base name, from now on) into new states and runs their bodies and inits. On any
    /// error nothing changes. Otherwise every rule's next call runs the new code, the old tasks
    /// stop, and the old states are freed once the streams started before the reload have ended.
    /// One reload at a time.
    /// </summary>
    public LuaReloadResult ReloadLua(IReadOnlyDictionary<string, byte[]>? sources = null)
    {
        _reloadLock.Wait();
        try
        {
            var g = Generation;
            var loads = g.Config.Global.LuaLoads;
            var merged = new Dictionary<string, byte[]>(_luaSources, StringComparer.Ordinal);
            var errors = new List<string>();
            foreach (var (name, code) in sources ?? new Dictionary<string, byte[]>())
            {
                if (!loads.Any(l => Path.GetFileName(l.Path) == name))
                {
                    errors.Add($"'{name}' is not the name of a loaded Lua file ({string.Join(", ", loads.Select(l => Path.GetFileName(l.Path)))})");
                }

                merged[name] = code;
            }

            if (errors.Count > 0)
            {
                Interlocked.Increment(ref _luaReloadFailures);
                return new LuaReloadResult(false, g.LuaGeneration, errors);
            }

            var old = g.Lua;
            var next = old.CreateSuccessor();
            errors.AddRange(next.Load(loads, g.Config.Global.LuaPrependPaths, merged));
            if (errors.Count == 0)
            {
                errors.AddRange(old.HandOverCheck(next));
            }

            if (errors.Count == 0)
            {
                // As at start: the bodies did not see the proxies, init functions and later do.
                next.PublishProxies(g.Proxies);
            }

            if (errors.Count == 0)
            {
                errors.AddRange(next.RunInits());
            }

            if (errors.Count > 0)
            {
                next.Dispose();
                Interlocked.Increment(ref _luaReloadFailures);
                ProcessLog.Instance.Warning($"Lua reload refused, generation {g.LuaGeneration} kept: {string.Join("; ", errors)}");
                return new LuaReloadResult(false, g.LuaGeneration, errors);
            }

            old.HandOver(next);
            g.SwapLua(next);
            _luaSources = merged;
            old.Retire();
            g.RetiredLuaErrors += old.States.Sum(st => st.Stats.Errors);
            g.RetireLuaStats(old.States);
            next.StartTasks();
            // Freed off the event loops (a stream's end may be what drains the epoch; Dispose waits for the old tasks).
            _epochs.Close(ref _epoch, () => Task.Run(old.Dispose));
            ProcessLog.Instance.Notice($"Lua reloaded: generation {g.LuaGeneration}, {next.LoadedFiles.Count} file(s), {next.States.Count()} state(s).");
            LuaReloaded?.Invoke(g.LuaGeneration);
            return new LuaReloadResult(true, g.LuaGeneration, []);
        }
        finally
        {
            _reloadLock.Release();
        }
    }
}
