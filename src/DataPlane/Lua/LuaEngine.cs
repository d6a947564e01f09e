using System.Reflection;
using System.Text;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Lua.Classes;
using HaLua.DataPlane.Lua.Interop;
using HaLua.DataPlane.Samples;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua;

/// <summary>
/// All Lua states of one generation (the shared state of <c>lua-load</c> and the per-worker states of
/// <c>lua-load-per-thread</c>) and what their bodies registered.
/// </summary>
internal sealed unsafe class LuaEngine : IDisposable
{
    private static readonly byte[] PreludeCode = LoadPrelude();
    private static readonly RawFunctions Raw = CreateRawFunctions();

    private readonly List<LuaFunctionRef> _inits = [];
    private readonly List<LuaLoadedFile> _loaded = [];
    private readonly List<LuaFunctionRef> _pendingTasks = [];
    private readonly List<Task> _runningTasks = [];
    private readonly CancellationTokenSource _stopping = new();
    private LuaState? _shared;
    private readonly LuaState?[] _perWorker;
    private bool _started;

    public LuaEngine(LuaSettings settings, SampleRegistry? samples = null)
    {
        Settings = settings;
        _perWorker = new LuaState?[Math.Max(1, settings.Workers)];
        Samples = samples ?? SampleRegistry.CreateDefault();
        FetchNames = Samples.FetchNames;
        ConverterNames = Samples.ConverterNames;
    }

    /// <summary>The registry behind txn.f / txn.c (and where lua.NAME fetches and converters go).</summary>
    public SampleRegistry Samples { get; }

    public LuaSettings Settings { get; }

    public IReadOnlyList<string> FetchNames { get; }

    public IReadOnlyList<string> ConverterNames { get; }

    public Dictionary<string, LuaRegistration> Services { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, LuaRegistration> Actions { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, LuaRegistration> Fetches { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, LuaRegistration> Converters { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, LuaRegistration> CliCommands { get; } = new(StringComparer.Ordinal);

    /// <summary>HAProxy's <c>show info</c> (<see cref="Stats.ProcessInfo"/>), for core.get_info.</summary>
    public Func<IReadOnlyList<(string Name, Stats.StatValue Value)>> InfoProvider { get; set; } = () => [];

    /// <summary>Lua tasks still running (show info's Tasks counts them).</summary>
    public int RunningTasks
    {
        get
        {
            lock (_runningTasks)
            {
                return _runningTasks.Count(t => !t.IsCompleted);
            }
        }
    }

    /// <summary>Hook for the data plane to hand runtime objects (core.proxies...) to a state.</summary>
    public Action<LuaState>? OnStateReady { get; set; }

    public CancellationToken Stopping => _stopping.Token;

    public IEnumerable<LuaState> States
    {
        get
        {
            if (_shared is not null)
            {
                yield return _shared;
            }

            foreach (var s in _perWorker)
            {
                if (s is not null)
                {
                    yield return s;
                }
            }
        }
    }

    /// <summary>The state a stream on <paramref name="worker"/> uses for functions it finds there.</summary>
    public LuaState? StateFor(int worker) => _perWorker[worker % _perWorker.Length] ?? _shared;

    /// <summary>The files as loaded, in load order.</summary>
    public IReadOnlyList<LuaLoadedFile> LoadedFiles => _loaded;

    /// <summary>
    /// Loads every lua-load / lua-load-per-thread file and runs its body. Returns the errors (file:line: message).
    /// <paramref name="sources"/> replaces the content of the files whose base name it names (a hot reload's new code).
    /// </summary>
    public List<string> Load(IReadOnlyList<LuaLoadConfig> loads, IReadOnlyList<LuaPrependPath> prependPaths, IReadOnlyDictionary<string, byte[]>? sources = null)
    {
        var errors = new List<string>();
        foreach (var load in loads)
        {
            byte[]? code = null;
            bool fromApi = sources is not null && sources.TryGetValue(Path.GetFileName(load.Path), out code);
            if (code is null)
            {
                try
                {
                    code = File.ReadAllBytes(load.Path);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    errors.Add($"{load.Location} : '{(load.PerThread ? "lua-load-per-thread" : "lua-load")}' in section 'global': cannot read '{load.Path}': {ex.Message}");
                    continue;
                }
            }

            _loaded.Add(new LuaLoadedFile(load.Path, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(code)), load.PerThread, fromApi));

            if (load.PerThread)
            {
                for (int w = 0; w < _perWorker.Length; w++)
                {
                    _perWorker[w] ??= CreateState(w, prependPaths);
                    if (RunBody(_perWorker[w]!, code, load) is { } err)
                    {
                        errors.Add(err);
                        break;
                    }
                }
            }
            else
            {
                _shared ??= CreateState(-1, prependPaths);
                if (RunBody(_shared, code, load) is { } err)
                {
                    errors.Add(err);
                }
            }
        }

        return errors;
    }

    private string? RunBody(LuaState st, byte[] code, LuaLoadConfig load)
    {
        st.Enter();
        try
        {
            if (st.Load(code, load.Path) is { } syntax)
            {
                return $"{load.Location} : '{(load.PerThread ? "lua-load-per-thread" : "lua-load")}' in section 'global': {syntax}";
            }

            var exec = st.NewExecution(LuaContextKind.Body, load.Path, TimeSpan.Zero);
            foreach (var arg in load.Args)
            {
                LuaStack.PushString(exec.Thread, arg);
            }

            exec.SetArgumentCount(load.Args.Length);
            var outcome = LuaRunner.RunSync(exec);
            string? error = exec.ErrorMessage;
            exec.Release();
            return outcome is LuaOutcome.Ok or LuaOutcome.Done ? null : $"{load.Location} : '{(load.PerThread ? "lua-load-per-thread" : "lua-load")}' in section 'global': {error}";
        }
        finally
        {
            st.Exit();
        }
    }

    private LuaState CreateState(int worker, IReadOnlyList<LuaPrependPath> prependPaths)
    {
        var st = new LuaState(this, worker, Settings.MaxMemory, Settings.ForcedYield);
        IntPtr L = st.L;
        st.Enter();
        try
        {
            // The handle metatable: frees GCHandles of C# objects.
            lua_createtable(L, 0, 2);
            lua_pushcclosure(L, &LuaObjects.Collect, 0);
            LuaStack.SetField(L, -2, "__gc");
            LuaStack.PushString(L, "halua.object");
            LuaStack.SetField(L, -2, "__metatable");
            st.Classes.Handle = st.Ref();

            foreach (var prepend in prependPaths)
            {
                // lua-prepend-path: package.path = "<path>;" .. package.path
                string path = prepend.Path;
                LuaStack.GetGlobal(L, "package");
                LuaStack.PushString(L, prepend.CPath ? "cpath" : "path");
                lua_pushvalue(L, -1);
                lua_rawget(L, -3);
                var current = LuaStack.ToStringOrNull(L, -1) ?? "";
                lua_pop(L, 1);
                LuaStack.PushString(L, path + ";" + current);
                lua_rawset(L, -3);
                lua_pop(L, 1);
            }

            if (st.Load(PreludeCode, "halua/prelude.lua") is { } err)
            {
                throw new InvalidOperationException("prelude: " + err);
            }

            lua_createtable(L, 0, Raw.All.Count);
            foreach (var (name, fn) in Raw.All)
            {
                lua_pushcclosure(L, (delegate* unmanaged[Cdecl]<IntPtr, int>)fn, 0);
                LuaStack.SetField(L, -2, name);
            }

            lua_pushlightuserdata(L, LuaStack.ErrorMarker);
            lua_pushlightuserdata(L, LuaStack.YieldMarker);
            PushNames(L, FetchNames);
            PushNames(L, ConverterNames);
            if (lua_pcall(L, 5, 1, 0) != LUA_OK)
            {
                throw new InvalidOperationException("prelude: " + LuaStack.ToStringOrNull(L, -1));
            }

            // core.thread (HAProxy 2.x): the worker of a lua-load-per-thread state from 1, 0 for the shared state.
            LuaStack.GetGlobal(L, "core");
            lua_pushinteger(L, worker + 1);
            LuaStack.SetField(L, -2, "thread");
            lua_pop(L, 1);

            LuaStack.GetField(L, -1, "kill_thread");
            st.Classes.KillThreadRef = st.Ref();
            LuaStack.GetField(L, -1, "classes");
            st.Classes.Txn = ClassRef(st, "TXN");
            st.Classes.Channel = ClassRef(st, "Channel");
            st.Classes.Http = ClassRef(st, "HTTP");
            st.Classes.Fetches = ClassRef(st, "Fetches");
            st.Classes.Converters = ClassRef(st, "Converters");
            st.Classes.SFetches = ClassRef(st, "SFetches");
            st.Classes.SConverters = ClassRef(st, "SConverters");
            st.Classes.AppletTcp = ClassRef(st, "AppletTCP");
            st.Classes.AppletHttp = ClassRef(st, "AppletHTTP");
            st.Classes.Concat = ClassRef(st, "Concat");
            st.Classes.Proxy = ClassRef(st, "Proxy");
            st.Classes.Server = ClassRef(st, "Server");
            st.Classes.Listener = ClassRef(st, "Listener");
            lua_settop(L, 0);
        }
        finally
        {
            st.Exit();
        }

        OnStateReady?.Invoke(st);
        return st;
    }

    private static int ClassRef(LuaState st, string name)
    {
        LuaStack.GetField(st.L, -1, name);
        return st.Ref();
    }

    private static void PushNames(IntPtr L, IReadOnlyList<string> names)
    {
        lua_createtable(L, names.Count, 0);
        for (int i = 0; i < names.Count; i++)
        {
            LuaStack.PushString(L, names[i]);
            lua_rawseti(L, -2, i + 1);
        }
    }

    internal LuaRegistration Register(Dictionary<string, LuaRegistration> table, string name, LuaFunctionRef fn)
    {
        lock (table)
        {
            if (!table.TryGetValue(name, out var reg))
            {
                reg = new LuaRegistration(name, _perWorker.Length);
                table[name] = reg;
            }
            else if (reg.Has(fn.State))
            {
                // HAProxy replaces a function registered twice in the same state, with a warning.
                ProcessLog.Instance.Warning($"Lua function '{name}' registered twice: the last one is used.");
            }

            reg.Set(fn);
            return reg;
        }
    }

    internal void AddInit(LuaFunctionRef fn) => _inits.Add(fn);

    /// <summary>
    /// Gives every state core.proxies, core.frontends and core.backends: after the bodies ran (they
    /// see none, as in HAProxy where proxies are parsed after lua-load) and before the init functions.
    /// </summary>
    public void PublishProxies(IReadOnlyList<Runtime.ProxyRuntime> proxies)
    {
        foreach (var st in States)
        {
            st.Enter();
            try
            {
                ProxyClass.Publish(st, proxies);
            }
            finally
            {
                st.Exit();
            }
        }
    }

    internal void AddTask(LuaFunctionRef fn)
    {
        lock (_pendingTasks)
        {
            if (_started)
            {
                StartTask(fn);
            }
            else
            {
                _pendingTasks.Add(fn);
            }
        }
    }

    /// <summary>Runs the functions registered with core.register_init (after the configuration is built). Returns errors.</summary>
    public List<string> RunInits()
    {
        var errors = new List<string>();
        foreach (var fn in _inits)
        {
            var st = fn.State;
            st.Enter();
            try
            {
                var exec = st.NewExecution(fn.Ref, LuaContextKind.Init, "init", TimeSpan.Zero);
                var outcome = LuaRunner.RunSync(exec);
                string? error = exec.ErrorMessage;
                exec.Release();
                if (outcome is not (LuaOutcome.Ok or LuaOutcome.Done))
                {
                    errors.Add(error ?? "init failed");
                }
            }
            finally
            {
                st.Exit();
            }
        }

        return errors;
    }

    /// <summary>Starts the tasks registered so far (and, from now on, every new one at once).</summary>
    public void StartTasks()
    {
        lock (_pendingTasks)
        {
            _started = true;
            foreach (var fn in _pendingTasks)
            {
                StartTask(fn);
            }

            _pendingTasks.Clear();
        }
    }

    private void StartTask(LuaFunctionRef fn)
    {
        var t = Task.Run(() => LuaRunner.RunTaskOnLoopAsync(fn, Settings.TaskTimeout, _stopping.Token));
        lock (_runningTasks)
        {
            _runningTasks.Add(t);
        }
    }

    /// <summary>A new, empty engine for a hot reload: the same settings, registry and hooks.</summary>
    public LuaEngine CreateSuccessor() => new(Settings, Samples) { InfoProvider = InfoProvider, OnStateReady = OnStateReady };

    /// <summary>
    /// A hot reload's check. Every service, action, fetch and converter of this (the
    /// running) engine must be in <paramref name="successor"/> in the same shape: the configuration
    /// was checked against them. Then <see cref="HandOver"/> retargets each of this engine's
    /// registrations (the objects the rules hold) at the successor's functions and makes it the
    /// successor's entry, so the next call of every rule runs the new code.
    /// </summary>
    public List<string> HandOverCheck(LuaEngine successor)
    {
        var errors = new List<string>();
        Check(Services, successor.Services, "service", r => r.Mode ?? "");
        Check(Actions, successor.Actions, "action", r => r.Targets.ToString());
        Check(Fetches, successor.Fetches, "sample-fetch", _ => "");
        Check(Converters, successor.Converters, "converter", _ => "");
        return errors;

        void Check(Dictionary<string, LuaRegistration> old, Dictionary<string, LuaRegistration> next, string kind, Func<LuaRegistration, string> shape)
        {
            foreach (var (name, reg) in old)
            {
                if (!next.TryGetValue(name, out var n))
                {
                    errors.Add($"the new scripts do not register the {kind} '{name}' (the configuration was checked against it)");
                }
                else if (shape(n) != shape(reg) || n.NbArgs != reg.NbArgs)
                {
                    errors.Add($"the new scripts register the {kind} '{name}' differently ({Shape(n, shape)} instead of {Shape(reg, shape)})");
                }
            }
        }

        static string Shape(LuaRegistration r, Func<LuaRegistration, string> shape) => $"'{shape(r)}'{(r.NbArgs > 0 ? $" with {r.NbArgs} argument(s)" : "")}";
    }

    /// <summary>The switch, after <see cref="HandOverCheck"/> found nothing wrong.</summary>
    public void HandOver(LuaEngine successor)
    {
        Adopt(Services, successor.Services);
        Adopt(Actions, successor.Actions);
        Adopt(Fetches, successor.Fetches);
        Adopt(Converters, successor.Converters);

        static void Adopt(Dictionary<string, LuaRegistration> old, Dictionary<string, LuaRegistration> next)
        {
            foreach (var (name, reg) in old)
            {
                reg.Retarget(next[name]);
                next[name] = reg;
            }
        }
    }

    /// <summary>A hot reload replaced this engine: its tasks stop now; its states live on until <see cref="Dispose"/> (when no stream can use them).</summary>
    public void Retire() => _stopping.Cancel();

    public void Dispose()
    {
        _stopping.Cancel();
        Task[] tasks;
        lock (_runningTasks)
        {
            tasks = [.. _runningTasks];
        }

        try
        {
            Task.WaitAll(tasks, TimeSpan.FromSeconds(2));
        }
        catch (AggregateException)
        {
            // tasks stopped by cancellation
        }

        foreach (var st in States.ToList())
        {
            st.Dispose();
        }

        _stopping.Dispose();
    }

    private static byte[] LoadPrelude()
    {
        using var s = Assembly.GetExecutingAssembly().GetManifestResourceStream("HaLua.DataPlane.Lua.Prelude.prelude.lua")
            ?? throw new InvalidOperationException("prelude resource missing");
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        return ms.ToArray();
    }

    private static RawFunctions CreateRawFunctions()
    {
        var r = new RawFunctions();
        CoreClass.Register(r);
        AppletTcpClass.Register(r);
        AppletHttpClass.Register(r);
        TxnClass.Register(r);
        ChannelClass.Register(r);
        HttpClass.Register(r);
        FetchesClass.Register(r);
        MapClass.Register(r);
        SocketClass.Register(r);
        HttpClientClass.Register(r);
        ProxyClass.Register(r);
        ServerClass.Register(r);
        ListenerClass.Register(r);
        RegexClass.Register(r);
        ActClass.Register(r);
        ReplyClass.Register(r);
        return r;
    }

    internal static string Describe(IEnumerable<string> errors) => new StringBuilder().AppendJoin(Environment.NewLine, errors).ToString();
}
