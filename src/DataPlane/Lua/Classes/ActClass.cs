using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HaLua.DataPlane.Lua.Interop;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>
/// HAProxy 2.x's <c>act</c> class: the return codes of an action (constants, in the prelude) and
/// <c>act.wake_time(ms)</c>, when an action that returns <c>act.YIELD</c> is to be called again.
/// </summary>
internal static unsafe class ActClass
{
    public static void Register(RawFunctions r) => r.Add("act_wake_time", &WakeTime);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int WakeTime(IntPtr L) => LuaCallback.Run(L, &WakeTimeImpl);

    private static int WakeTimeImpl(IntPtr L, LuaState st)
    {
        const string fn = "act.wake_time";
        var exec = LuaCallback.Require(st, LuaContextKind.Action, fn);
        long ms = LuaCallback.Integer(L, 1, fn);
        if (exec.Owner is TxnContext txn)
        {
            txn.WakeTimeMs = Math.Max(0, ms);
        }

        return 0;
    }
}
