namespace HaLua.DataPlane.Lua;

/// <summary>A Lua function held in one state's registry.</summary>
internal sealed record LuaFunctionRef(LuaState State, int Ref, string Name);

/// <summary>Where an action may be used (core.register_action's second argument).</summary>
[Flags]
internal enum LuaActionTargets
{
    None = 0,
    TcpReq = 1,
    TcpRes = 2,
    HttpReq = 4,
    HttpRes = 8,
}

/// <summary>
/// A registered service, action, fetch, converter or cli command: one function per state that
/// registered it (the shared state of lua-load, and each worker's of lua-load-per-thread).
/// Rules hold these objects; a Lua hot reload retargets them at the new states' functions
/// (<see cref="Retarget"/>), so the next call of every rule runs the new code.
/// </summary>
internal sealed class LuaRegistration(string name, int workers)
{
    private FunctionSet _targets = new(null, new LuaFunctionRef?[workers]);

    public string Name { get; } = name;

    public LuaFunctionRef? Shared => _targets.Shared;

    /// <summary>"tcp" or "http" for services.</summary>
    public string? Mode { get; set; }

    public LuaActionTargets Targets { get; set; }

    /// <summary>Arguments an action requires in the config (REALITY.md: exactly this many).</summary>
    public int NbArgs { get; set; }

    public string? Usage { get; set; }

    public IReadOnlyList<string> CliPath { get; set; } = [];

    /// <summary>Only while the registering bodies run (before anything calls it).</summary>
    public void Set(LuaFunctionRef fn)
    {
        var t = _targets;
        if (fn.State.WorkerIndex < 0)
        {
            _targets = t with { Shared = fn };
        }
        else
        {
            t.PerWorker[fn.State.WorkerIndex] = fn;
        }
    }

    public bool Has(LuaState state)
        => state.WorkerIndex < 0 ? Shared?.State == state : _targets.PerWorker[state.WorkerIndex]?.State == state;

    /// <summary>The function a stream on this worker runs: its own state's, else the shared one.</summary>
    public LuaFunctionRef For(int worker)
    {
        var t = Volatile.Read(ref _targets);
        return (uint)worker < (uint)t.PerWorker.Length && t.PerWorker[worker] is { } own ? own : t.Shared ?? FirstPerWorker(t);
    }

    /// <summary>From now on, calls run <paramref name="successor"/>'s functions (a hot reload); calls in flight finish where they are.</summary>
    public void Retarget(LuaRegistration successor)
    {
        Mode = successor.Mode;
        Targets = successor.Targets;
        NbArgs = successor.NbArgs;
        Usage = successor.Usage;
        CliPath = successor.CliPath;
        var t = successor._targets;
        Volatile.Write(ref _targets, new FunctionSet(t.Shared, [.. t.PerWorker]));
    }

    private LuaFunctionRef FirstPerWorker(FunctionSet t)
    {
        foreach (var f in t.PerWorker)
        {
            if (f is not null)
            {
                return f;
            }
        }

        throw new InvalidOperationException($"Lua function '{Name}' has no state");
    }

    private sealed record FunctionSet(LuaFunctionRef? Shared, LuaFunctionRef?[] PerWorker);
}

/// <summary>A Lua file as loaded: where from, its SHA-256, and whether its content came from a hot reload call instead of the disk.</summary>
internal sealed record LuaLoadedFile(string Path, string Sha256, bool PerThread, bool FromApi);

/// <summary>Settings of the Lua engine, from the global section.</summary>
internal sealed record LuaSettings(
    TimeSpan SessionTimeout,
    TimeSpan TaskTimeout,
    TimeSpan ServiceTimeout,
    int ForcedYield,
    long MaxMemory,
    int Workers)
{
    /// <summary><c>httpclient.ssl.verify</c>: whether the httpclient checks https servers' certificates (HAProxy's default: required).</summary>
    public bool HttpClientVerify { get; init; } = true;
}
