using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HaLua.DataPlane.Lua.Interop;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Runtime;
using HaLua.DataPlane.Stats;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>
/// HAProxy's Server class: a table {[0] = the live <see cref="ServerState"/>, name, puid} (HAProxy
/// 2.6's attributes). Its functions are the runtime API's operations (<see cref="RuntimeOperations"/>):
/// the next load-balancing decision sees them.
/// </summary>
internal static unsafe class ServerClass
{
    private const string Updater = RuntimeOperations.LuaUpdater;

    /// <summary>The functions with no argument and no result, by the number the prelude passes.</summary>
    private static readonly string[] OpNames =
    [
        "", "Server.set_ready", "Server.set_drain", "Server.set_maint", "Server.check_enable", "Server.check_disable",
        "Server.check_force_up", "Server.check_force_nolb", "Server.check_force_down", "Server.agent_enable",
        "Server.agent_disable", "Server.agent_force_up", "Server.agent_force_down", "Server.shut_sess",
    ];

    public static void Register(RawFunctions r)
    {
        r.Add("server_op", &Op);
        r.Add("server_get_name", &GetName);
        r.Add("server_get_puid", &GetPuid);
        r.Add("server_is_draining", &IsDraining);
        r.Add("server_get_weight", &GetWeight);
        r.Add("server_set_weight", &SetWeight);
        r.Add("server_get_addr", &GetAddr);
        r.Add("server_set_addr", &SetAddr);
        r.Add("server_get_stats", &GetStats);
    }

    internal static void Push(IntPtr L, LuaState st, ServerState s)
    {
        LuaObjects.PushObject(L, s, st.Classes.Server, st.Classes.Handle, 2);
        LuaStack.PushString(L, s.Name);
        LuaStack.SetField(L, -2, "name");
        // HAProxy 2.6 gives the puid as a numeric string, as the proxy's uuid.
        LuaStack.PushString(L, s.Id.ToString(CultureInfo.InvariantCulture));
        LuaStack.SetField(L, -2, "puid");
    }

    private static ServerState Self(IntPtr L, LuaState st, string fn)
    {
        LuaCallback.Require(st, ProxyClass.Contexts, fn);
        return LuaObjects.Get<ServerState>(L, 1) ?? throw new LuaArgumentException($"{fn}: bad argument #1 (Server expected, got {LuaStack.TypeName(L, 1)})");
    }

    /// <summary>
    /// The state changes, as HAProxy's Lua functions do them: no result, and where HAProxy has
    /// nothing to act on (checks not configured, no agent) nothing happens.
    /// </summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Op(IntPtr L) => LuaCallback.Run(L, &OpImpl);

    private static int OpImpl(IntPtr L, LuaState st)
    {
        long op = lua_tointegerx(L, 2, out _);
        var s = Self(L, st, OpNames[(int)Math.Clamp(op, 0, OpNames.Length - 1)]);
        switch (op)
        {
            case 1:
                RuntimeOperations.SetState(s, ServerAdminState.Ready, Updater);
                break;
            case 2:
                RuntimeOperations.SetState(s, ServerAdminState.Drain, Updater);
                break;
            case 3:
                RuntimeOperations.SetState(s, ServerAdminState.Maint, Updater);
                break;
            case 4:
                RuntimeOperations.EnableHealth(s);
                break;
            case 5:
                RuntimeOperations.DisableHealth(s);
                break;
            case 6:
                RuntimeOperations.SetHealth(s, ServerOperState.Up, Updater);
                break;
            case 7:
                RuntimeOperations.SetHealth(s, ServerOperState.NoLb, Updater);
                break;
            case 8:
                RuntimeOperations.SetHealth(s, ServerOperState.Down, Updater);
                break;
            case 9:
                RuntimeOperations.EnableAgent(s);
                break;
            case 10:
                RuntimeOperations.DisableAgent(s);
                break;
            case 11:
            case 12:
                // HAProxy acts only when the server's agent check is enabled; HaLua has no agent.
                RuntimeOperations.SetAgent(s, op == 11 ? "up" : "down");
                break;
            case 13:
                RuntimeOperations.ShutdownSessions(s);
                break;
            default:
                throw new LuaArgumentException($"Server: unknown operation {op}");
        }

        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetName(IntPtr L) => LuaCallback.Run(L, &GetNameImpl);

    private static int GetNameImpl(IntPtr L, LuaState st)
    {
        LuaStack.PushString(L, Self(L, st, "Server.get_name").Name);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetPuid(IntPtr L) => LuaCallback.Run(L, &GetPuidImpl);

    private static int GetPuidImpl(IntPtr L, LuaState st)
    {
        lua_pushinteger(L, Self(L, st, "Server.get_puid").Id);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int IsDraining(IntPtr L) => LuaCallback.Run(L, &IsDrainingImpl);

    /// <summary>A boolean, as the document says (HAProxy 2.6 returns 0/1; REALITY.md: the document decides).</summary>
    private static int IsDrainingImpl(IntPtr L, LuaState st)
    {
        LuaStack.PushBool(L, Self(L, st, "Server.is_draining").IsDraining);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetWeight(IntPtr L) => LuaCallback.Run(L, &GetWeightImpl);

    private static int GetWeightImpl(IntPtr L, LuaState st)
    {
        lua_pushinteger(L, Self(L, st, "Server.get_weight").Weight);
        return 1;
    }

    /// <summary>set_weight("10" or "50%"): nil when done, else HAProxy's message (not raised, as in HAProxy).</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetWeight(IntPtr L) => LuaCallback.Run(L, &SetWeightImpl);

    private static int SetWeightImpl(IntPtr L, LuaState st)
    {
        const string fn = "Server.set_weight";
        var s = Self(L, st, fn);
        LuaStack.PushStringOrNil(L, RuntimeOperations.SetWeight(s, LuaCallback.String(L, 2, fn)));
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetAddr(IntPtr L) => LuaCallback.Run(L, &GetAddrImpl);

    private static int GetAddrImpl(IntPtr L, LuaState st)
    {
        LuaStack.PushString(L, RuntimeOperations.AddressText(Self(L, st, "Server.get_addr")));
        return 1;
    }

    /// <summary>
    /// set_addr(addr[, port]): HAProxy 2.6 returns its description of what happened, success or not
    /// ("IP changed from '127.0.0.1' to '127.0.0.2' by 'Lua script'").
    /// </summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetAddr(IntPtr L) => LuaCallback.Run(L, &SetAddrImpl);

    private static int SetAddrImpl(IntPtr L, LuaState st)
    {
        const string fn = "Server.set_addr";
        var s = Self(L, st, fn);
        string addr = LuaCallback.String(L, 2, fn);
        string? port = lua_isnoneornil(L, 3) ? null : LuaCallback.String(L, 3, fn);
        LuaStack.PushString(L, RuntimeOperations.SetAddress(s, addr, port, Updater).Message);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetStats(IntPtr L) => LuaCallback.Run(L, &GetStatsImpl);

    private static int GetStatsImpl(IntPtr L, LuaState st)
    {
        ProxyClass.PushRow(L, StatLines.Server(Self(L, st, "Server.get_stats")));
        return 1;
    }
}
