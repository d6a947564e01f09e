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
/// </summary>
internal sealed class LuaRegistration(string name, int workers)
{
    private readonly LuaFunctionRef?[] _perWorker = new LuaFunctionRef?[workers];

    public string Name { get; } = name;

    public LuaFunctionRef? Shared { get; private set; }

    /// <summary>"tcp" or "http" for services.</summary>
    public string? Mode { get; set; }

    public LuaActionTargets Targets { get; set; }

    /// <summary>Arguments an action requires in the config (REALITY.md: exactly this many).</summary>
    public int NbArgs { get; set; }

    public string? Usage { get; set; }

    public IReadOnlyList<string> CliPath { get; set; } = [];

    public void Set(LuaFunctionRef fn)
    {
        if (fn.State.WorkerIndex < 0)
        {
            Shared = fn;
        }
        else
        {
            _perWorker[fn.State.WorkerIndex] = fn;
        }
    }

    public bool Has(LuaState state)
        => state.WorkerIndex < 0 ? Shared?.State == state : _perWorker[state.WorkerIndex]?.State == state;

    /// <summary>The function a stream on this worker runs: its own state's, else the shared one.</summary>
    public LuaFunctionRef For(int worker)
        => (uint)worker < (uint)_perWorker.Length && _perWorker[worker] is { } own ? own : Shared ?? FirstPerWorker();

    private LuaFunctionRef FirstPerWorker()
    {
        foreach (var f in _perWorker)
        {
            if (f is not null)
            {
                return f;
            }
        }

        throw new InvalidOperationException($"Lua function '{Name}' has no state");
    }
}

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
