using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HaLua.DataPlane.Lua.Interop;
using HaLua.DataPlane.Runtime;
using HaLua.DataPlane.Stats;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>
/// HAProxy's Proxy class, and <c>core.proxies</c> / <c>core.frontends</c> / <c>core.backends</c>.
/// A Proxy object is a table {[0] = the live <see cref="ProxyRuntime"/>, name, uuid, servers,
/// listeners}, as HAProxy 2.6 makes it; what its functions change is what the next connection and
/// the next request see, and what they read is the current state.
/// </summary>
internal static unsafe class ProxyClass
{
    /// <summary>Where these objects are usable: everywhere once they exist (they do not in the body).</summary>
    internal const LuaContextKind Contexts = LuaContextKind.All & ~LuaContextKind.Body;

    private static readonly string[] OpNames = ["", "Proxy.pause", "Proxy.resume", "Proxy.stop", "Proxy.shut_bcksess"];

    public static void Register(RawFunctions r)
    {
        r.Add("proxy_op", &Op);
        r.Add("proxy_get_cap", &GetCap);
        r.Add("proxy_get_mode", &GetMode);
        r.Add("proxy_get_stats", &GetStats);
    }

    /// <summary>Sets core.proxies, core.frontends and core.backends in a state. Caller holds the gate.</summary>
    public static void Publish(LuaState st, IReadOnlyList<ProxyRuntime> proxies)
    {
        IntPtr L = st.L;
        int top = lua_gettop(L);
        LuaStack.GetGlobal(L, "core");
        int core = top + 1;
        lua_createtable(L, 0, proxies.Count);
        lua_createtable(L, 0, proxies.Count);
        lua_createtable(L, 0, proxies.Count);
        int all = core + 1, frontends = core + 2, backends = core + 3;
        foreach (var px in proxies)
        {
            PushProxy(L, st, px);
            // A frontend and a backend of the same name: one of them is listed (HAProxy's warning).
            lua_pushvalue(L, -1);
            LuaStack.SetField(L, all, px.Name);
            if (px.IsFrontend)
            {
                lua_pushvalue(L, -1);
                LuaStack.SetField(L, frontends, px.Name);
            }

            if (px.IsBackend)
            {
                lua_pushvalue(L, -1);
                LuaStack.SetField(L, backends, px.Name);
            }

            lua_pop(L, 1);
        }

        LuaStack.SetField(L, core, "backends");
        LuaStack.SetField(L, core, "frontends");
        LuaStack.SetField(L, core, "proxies");
        lua_settop(L, top);
    }

    /// <summary>
    /// A server added (<paramref name="present"/>) or deleted at runtime: its entry in the
    /// <c>servers</c> table of <c>core.backends[backend]</c>. Caller holds the gate.
    /// </summary>
    public static void PublishServer(LuaState st, Model.ServerState server, bool present)
    {
        IntPtr L = st.L;
        int top = lua_gettop(L);
        LuaStack.GetGlobal(L, "core");
        if (lua_type(L, -1) == LUA_TTABLE)
        {
            LuaStack.GetField(L, -1, "backends");
            if (lua_type(L, -1) == LUA_TTABLE)
            {
                LuaStack.GetField(L, -1, server.Backend.Name);
                if (lua_type(L, -1) == LUA_TTABLE)
                {
                    LuaStack.GetField(L, -1, "servers");
                    if (lua_type(L, -1) == LUA_TTABLE)
                    {
                        if (present)
                        {
                            ServerClass.Push(L, st, server);
                        }
                        else
                        {
                            lua_pushnil(L);
                        }

                        LuaStack.SetField(L, -2, server.Name);
                    }
                }
            }
        }

        lua_settop(L, top);
    }

    private static void PushProxy(IntPtr L, LuaState st, ProxyRuntime px)
    {
        LuaObjects.PushObject(L, px, st.Classes.Proxy, st.Classes.Handle, 4);
        LuaStack.PushString(L, px.Name);
        LuaStack.SetField(L, -2, "name");
        // HAProxy gives the uuid as a numeric string (REALITY.md).
        LuaStack.PushString(L, px.Config.Uuid.ToString(CultureInfo.InvariantCulture));
        LuaStack.SetField(L, -2, "uuid");
        var servers = px.Backend?.Servers ?? [];
        lua_createtable(L, 0, servers.Count);
        foreach (var s in servers)
        {
            ServerClass.Push(L, st, s);
            LuaStack.SetField(L, -2, s.Name);
        }

        LuaStack.SetField(L, -2, "servers");
        lua_createtable(L, 0, px.Listeners.Count);
        foreach (var l in px.Listeners)
        {
            LuaObjects.PushObject(L, new ListenerClass.Handle(px, l), st.Classes.Listener, st.Classes.Handle);
            LuaStack.SetField(L, -2, l.Name);
        }

        LuaStack.SetField(L, -2, "listeners");
    }

    internal static ProxyRuntime Self(IntPtr L, string fn)
        => LuaObjects.Get<ProxyRuntime>(L, 1) ?? throw new LuaArgumentException($"{fn}: bad argument #1 (Proxy expected, got {LuaStack.TypeName(L, 1)})");

    /// <summary>pause (1), resume (2), stop (3), shut_bcksess (4): HAProxy's Lua functions say nothing, whatever the outcome.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Op(IntPtr L) => LuaCallback.Run(L, &OpImpl);

    private static int OpImpl(IntPtr L, LuaState st)
    {
        long op = lua_tointegerx(L, 2, out _);
        string fn = OpNames[(int)Math.Clamp(op, 0, OpNames.Length - 1)];
        LuaCallback.Require(st, Contexts, fn);
        var px = Self(L, fn);
        _ = op switch
        {
            1 => RuntimeOperations.Pause(px, RuntimeOperations.LuaUpdater),
            2 => RuntimeOperations.Resume(px, RuntimeOperations.LuaUpdater),
            3 => RuntimeOperations.Stop(px, RuntimeOperations.LuaUpdater),
            4 => RuntimeOperations.ShutdownBackupSessions(px).ToString(CultureInfo.InvariantCulture),
            _ => throw new LuaArgumentException($"Proxy: unknown operation {op}"),
        };
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetCap(IntPtr L) => LuaCallback.Run(L, &GetCapImpl);

    private static int GetCapImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, Contexts, "Proxy.get_cap");
        var px = Self(L, "Proxy.get_cap");
        LuaStack.PushString(L, px.IsFrontend && px.IsBackend ? "proxy" : px.IsFrontend ? "frontend" : "backend");
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetMode(IntPtr L) => LuaCallback.Run(L, &GetModeImpl);

    private static int GetModeImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, Contexts, "Proxy.get_mode");
        var px = Self(L, "Proxy.get_mode");
        LuaStack.PushString(L, px.Config.Mode == Config.ProxyMode.Http ? "http" : "tcp");
        return 1;
    }

    /// <summary>The proxy's row of <c>show stat</c>: its BACKEND row when it has a backend side (a listen section too, as HAProxy), else its FRONTEND row.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetStats(IntPtr L) => LuaCallback.Run(L, &GetStatsImpl);

    private static int GetStatsImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, Contexts, "Proxy.get_stats");
        var px = Self(L, "Proxy.get_stats");
        PushRow(L, px.IsBackend ? StatLines.Backend(px) : StatLines.Frontend(px));
        return 1;
    }

    /// <summary>A stats row as a Lua table: name → integer or string; empty fields are absent (nil), as in HAProxy.</summary>
    internal static void PushRow(IntPtr L, StatLine? row)
    {
        lua_createtable(L, 0, row is null ? 0 : 64);
        if (row is null)
        {
            return;
        }

        foreach (var (name, value) in row.Fields)
        {
            if (PushStat(L, value))
            {
                LuaStack.SetField(L, -2, name);
            }
        }
    }

    /// <summary>Pushes a value; false (nothing pushed) when it is empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool PushStat(IntPtr L, StatValue value)
    {
        if (value.IsInteger)
        {
            lua_pushinteger(L, value.Integer);
            return true;
        }

        if (value.Text is { } text)
        {
            LuaStack.PushString(L, text);
            return true;
        }

        return false;
    }
}
