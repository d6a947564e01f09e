using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HaLua.DataPlane.Lua.Interop;
using HaLua.DataPlane.Runtime;
using HaLua.DataPlane.Stats;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>HAProxy's Listener class: a table {[0] = the live listener and its frontend}, with <c>get_stats</c>.</summary>
internal static unsafe class ListenerClass
{
    /// <summary>What a Listener object holds: the listener and the frontend it belongs to (its stats name both).</summary>
    internal sealed record Handle(ProxyRuntime Frontend, Listeners.Listener Listener);

    public static void Register(RawFunctions r) => r.Add("listener_get_stats", &GetStats);

    /// <summary>The listener's row of <c>show stat</c>; an empty table without <c>option socket-stats</c>, as in HAProxy.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetStats(IntPtr L) => LuaCallback.Run(L, &GetStatsImpl);

    private static int GetStatsImpl(IntPtr L, LuaState st)
    {
        const string fn = "Listener.get_stats";
        LuaCallback.Require(st, ProxyClass.Contexts, fn);
        var h = LuaObjects.Get<Handle>(L, 1) ?? throw new LuaArgumentException($"{fn}: bad argument #1 (Listener expected, got {LuaStack.TypeName(L, 1)})");
        ProxyClass.PushRow(L, StatLines.Listener(h.Frontend, h.Listener));
        return 1;
    }
}
