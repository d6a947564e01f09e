using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Lua.Interop;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>The C# side of HAProxy's <c>core</c> class (the Lua side is in the prelude).</summary>
internal static unsafe partial class CoreClass
{
    /// <summary>Yieldable contexts. The spec lists "action"; HAProxy runs services and cli commands the same way.</summary>
    internal const LuaContextKind Yieldable = LuaContextKind.Task | LuaContextKind.Action | LuaContextKind.Service | LuaContextKind.Cli;

    /// <summary>coroutine.resume / wrap tell the watchdog which Lua thread runs (LuaWatchdog).</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int CoEnter(IntPtr L)
    {
        try
        {
            IntPtr co = lua_tothread(L, 1);
            if (co != IntPtr.Zero)
            {
                LuaState.FromLua(L).EnterCoroutine(co);
            }
        }
        catch
        {
            // never throw into native code
        }

        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int CoLeave(IntPtr L)
    {
        try
        {
            LuaState.FromLua(L).LeaveCoroutine();
        }
        catch
        {
            // never throw into native code
        }

        return 0;
    }

    public static void Register(RawFunctions r)
    {
        r.Add("log", &Log);
        r.Add("co_enter", &CoEnter);
        r.Add("co_leave", &CoLeave);
        r.Add("register_service", &RegisterService);
        r.Add("register_action", &RegisterAction);
        r.Add("register_fetches", &RegisterFetches);
        r.Add("register_converters", &RegisterConverters);
        r.Add("register_init", &RegisterInit);
        r.Add("register_task", &RegisterTask);
        r.Add("register_cli", &RegisterCli);
        r.Add("msleep", &Msleep);
        r.Add("sleep", &Sleep);
        r.Add("yield", &YieldFn);
        r.Add("done", &Done);
        r.Add("now", &Now);
        r.Add("get_info", &GetInfo);
        r.Add("set_nice", &SetNice);
        r.Add("tokenize", &Tokenize);
        RegisterDates(r);
        RegisterAddresses(r);
        RegisterMaps(r);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Log(IntPtr L) => LuaCallback.Run(L, &LogImpl);

    private static int LogImpl(IntPtr L, LuaState st)
    {
        long level = LuaCallback.Integer(L, 1, "core.log");
        if (level is < 0 or > 7)
        {
            throw new LuaArgumentException("core.log: invalid log level (expected 0..7)");
        }

        string msg = LuaCallback.String(L, 2, "core.log");
        ProcessLog.Instance.Lua((int)level, msg);
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int RegisterService(IntPtr L) => LuaCallback.Run(L, &RegisterServiceImpl);

    private static int RegisterServiceImpl(IntPtr L, LuaState st)
    {
        const string fn = "core.register_service";
        LuaCallback.Require(st, LuaContextKind.Body, fn);
        string name = LuaCallback.String(L, 1, fn);
        string mode = LuaCallback.String(L, 2, fn);
        if (mode is not ("tcp" or "http"))
        {
            throw new LuaArgumentException($"{fn}: '{mode}' is not a valid mode; only 'tcp' or 'http' are allowed");
        }

        var f = FunctionRef(L, st, 3, fn, name);
        var reg = st.Engine.Register(st.Engine.Services, name, f);
        reg.Mode = mode;
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int RegisterAction(IntPtr L) => LuaCallback.Run(L, &RegisterActionImpl);

    private static int RegisterActionImpl(IntPtr L, LuaState st)
    {
        const string fn = "core.register_action";
        LuaCallback.Require(st, LuaContextKind.Body, fn);
        string name = LuaCallback.String(L, 1, fn);
        if (lua_type(L, 2) != LUA_TTABLE)
        {
            throw new LuaArgumentException($"{fn}: bad argument #2 (table of action types expected, got {LuaStack.TypeName(L, 2)})");
        }

        var targets = LuaActionTargets.None;
        lua_pushnil(L);
        while (lua_next(L, 2) != 0)
        {
            targets |= LuaStack.ToStringOrNull(L, -1) switch
            {
                "tcp-req" => LuaActionTargets.TcpReq,
                "tcp-res" => LuaActionTargets.TcpRes,
                "http-req" => LuaActionTargets.HttpReq,
                "http-res" => LuaActionTargets.HttpRes,
                var other => throw new LuaArgumentException($"{fn}: '{other}' is not a known action type (tcp-req, tcp-res, http-req, http-res)"),
            };
            lua_pop(L, 1);
        }

        int nbArgs = (int)LuaCallback.OptInteger(L, 4, fn, 0);
        if (nbArgs is < 0 or > 16)
        {
            throw new LuaArgumentException($"{fn}: bad argument #4 (number of arguments must be between 0 and 16)");
        }

        var f = FunctionRef(L, st, 3, fn, name);
        var reg = st.Engine.Register(st.Engine.Actions, name, f);
        reg.Targets = targets;
        reg.NbArgs = nbArgs;
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int RegisterFetches(IntPtr L) => LuaCallback.Run(L, &RegisterFetchesImpl);

    private static int RegisterFetchesImpl(IntPtr L, LuaState st)
    {
        const string fn = "core.register_fetches";
        LuaCallback.Require(st, LuaContextKind.Body, fn);
        string name = LuaCallback.String(L, 1, fn);
        st.Engine.Register(st.Engine.Fetches, name, FunctionRef(L, st, 2, fn, name));
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int RegisterConverters(IntPtr L) => LuaCallback.Run(L, &RegisterConvertersImpl);

    private static int RegisterConvertersImpl(IntPtr L, LuaState st)
    {
        const string fn = "core.register_converters";
        LuaCallback.Require(st, LuaContextKind.Body, fn);
        string name = LuaCallback.String(L, 1, fn);
        st.Engine.Register(st.Engine.Converters, name, FunctionRef(L, st, 2, fn, name));
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int RegisterInit(IntPtr L) => LuaCallback.Run(L, &RegisterInitImpl);

    private static int RegisterInitImpl(IntPtr L, LuaState st)
    {
        const string fn = "core.register_init";
        LuaCallback.Require(st, LuaContextKind.Body, fn);
        st.Engine.AddInit(FunctionRef(L, st, 1, fn, "init"));
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int RegisterTask(IntPtr L) => LuaCallback.Run(L, &RegisterTaskImpl);

    private static int RegisterTaskImpl(IntPtr L, LuaState st)
    {
        const string fn = "core.register_task";
        LuaCallback.Require(st, LuaContextKind.All & ~LuaContextKind.Service, fn);
        st.Engine.AddTask(FunctionRef(L, st, 1, fn, "task"));
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int RegisterCli(IntPtr L) => LuaCallback.Run(L, &RegisterCliImpl);

    private static int RegisterCliImpl(IntPtr L, LuaState st)
    {
        const string fn = "core.register_cli";
        LuaCallback.Require(st, LuaContextKind.Body, fn);
        if (lua_type(L, 1) != LUA_TTABLE)
        {
            throw new LuaArgumentException($"{fn}: bad argument #1 (table of words expected, got {LuaStack.TypeName(L, 1)})");
        }

        var path = new List<string>();
        for (int i = 1; ; i++)
        {
            lua_rawgeti(L, 1, i);
            var word = LuaStack.ToStringOrNull(L, -1);
            lua_pop(L, 1);
            if (word is null)
            {
                break;
            }

            path.Add(word);
        }

        if (path.Count is 0 or > 5)
        {
            throw new LuaArgumentException($"{fn}: the path must have 1 to 5 words");
        }

        string usage = LuaCallback.String(L, 2, fn);
        string name = string.Join(' ', path);
        var reg = st.Engine.Register(st.Engine.CliCommands, name, FunctionRef(L, st, 3, fn, name));
        reg.Usage = usage;
        reg.CliPath = path;
        return 0;
    }

    private static LuaFunctionRef FunctionRef(IntPtr L, LuaState st, int idx, string fn, string name)
    {
        if (lua_type(L, idx) != LUA_TFUNCTION)
        {
            throw new LuaArgumentException($"{fn}: bad argument #{idx} (function expected, got {LuaStack.TypeName(L, idx)})");
        }

        lua_pushvalue(L, idx);
        return new LuaFunctionRef(st, luaL_ref(L, LUA_REGISTRYINDEX), name);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Msleep(IntPtr L) => LuaCallback.Run(L, &MsleepImpl);

    private static int MsleepImpl(IntPtr L, LuaState st)
    {
        var exec = LuaCallback.Require(st, LuaContextKind.Body | LuaContextKind.Init | Yieldable, "core.msleep");
        return SleepFor(L, exec, LuaCallback.Integer(L, 1, "core.msleep"));
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Sleep(IntPtr L) => LuaCallback.Run(L, &SleepImpl);

    private static int SleepImpl(IntPtr L, LuaState st)
    {
        var exec = LuaCallback.Require(st, LuaContextKind.Body | LuaContextKind.Init | Yieldable, "core.sleep");
        return SleepFor(L, exec, checked(LuaCallback.Integer(L, 1, "core.sleep") * 1000));
    }

    private static int SleepFor(IntPtr L, LuaExecution exec, long ms)
    {
        exec.Waiter = new DelayWaiter(Math.Max(0, ms));
        return LuaStack.Yield(L);
    }

    private sealed class DelayWaiter(long ms) : ILuaWaitable
    {
        public ValueTask WaitAsync(CancellationToken cancellationToken)
            => ms <= 0 ? ValueTask.CompletedTask : new ValueTask(Task.Delay(TimeSpan.FromMilliseconds(ms), cancellationToken));
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int YieldFn(IntPtr L) => LuaCallback.Run(L, &YieldImpl);

    private static int YieldImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, Yieldable | LuaContextKind.Fetch | LuaContextKind.Converter, "core.yield");
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Done(IntPtr L) => LuaCallback.Run(L, &DoneImpl);

    private static int DoneImpl(IntPtr L, LuaState st)
    {
        var exec = LuaCallback.Require(st, LuaContextKind.All, "core.done");
        exec.DoneRequested = true;
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Now(IntPtr L) => LuaCallback.Run(L, &NowImpl);

    private static int NowImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, DateContexts, "core.now");
        long us = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / 10;
        lua_createtable(L, 0, 2);
        lua_pushinteger(L, us / 1_000_000);
        LuaStack.SetField(L, -2, "sec");
        lua_pushinteger(L, us % 1_000_000);
        LuaStack.SetField(L, -2, "usec");
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetInfo(IntPtr L) => LuaCallback.Run(L, &GetInfoImpl);

    private static int GetInfoImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, LuaContextKind.All, "core.get_info");
        var info = st.Engine.InfoProvider();
        lua_createtable(L, 0, info.Count);
        foreach (var (key, value) in info)
        {
            if (ProxyClass.PushStat(L, value))
            {
                LuaStack.SetField(L, -2, key);
            }
        }

        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetNice(IntPtr L) => LuaCallback.Run(L, &SetNiceImpl);

    private static int SetNiceImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, LuaContextKind.Runtime, "core.set_nice");
        long nice = LuaCallback.Integer(L, 1, "core.set_nice");
        if (nice is < -1024 or > 1024)
        {
            throw new LuaArgumentException("core.set_nice: the nice value must be between -1024 and 1024");
        }

        // Accepted: the .NET thread pool has no per-stream priority (documented in docs/lua-api.md).
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Tokenize(IntPtr L) => LuaCallback.Run(L, &TokenizeImpl);

    private static int TokenizeImpl(IntPtr L, LuaState st)
    {
        var str = LuaCallback.Bytes(L, 1, "core.tokenize").ToArray();
        var seps = LuaCallback.Bytes(L, 2, "core.tokenize").ToArray();
        bool noblank = lua_toboolean(L, 3) != 0;
        lua_createtable(L, 8, 0);
        long n = 0;
        int start = 0;
        for (int i = 0; i <= str.Length; i++)
        {
            if (i < str.Length && Array.IndexOf(seps, str[i]) < 0)
            {
                continue;
            }

            if (!noblank || i > start)
            {
                LuaStack.PushBytes(L, str.AsSpan(start, i - start));
                lua_rawseti(L, -2, ++n);
            }

            start = i + 1;
        }

        return 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int PushIntegerOrNil(IntPtr L, long? v)
    {
        if (v is { } x)
        {
            lua_pushinteger(L, x);
        }
        else
        {
            lua_pushnil(L);
        }

        return 1;
    }
}
