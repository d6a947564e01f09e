using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HaLua.DataPlane.Lua.Applets;
using HaLua.DataPlane.Lua.Interop;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>HAProxy's AppletTCP class: getline, receive, send (priv and vars are shared with TXN).</summary>
internal static unsafe class AppletTcpClass
{
    public static void Register(RawFunctions r)
    {
        r.Add("applet_tcp_getline", &Getline);
        r.Add("applet_tcp_receive", &Receive);
        r.Add("applet_tcp_send", &Send);
    }

    /// <summary>Pushes the Lua object for a new applet: {[0]=handle} (f, sf, c, sc are made on first use).</summary>
    public static void Push(IntPtr L, LuaState st, TcpAppletContext applet)
    {
        LuaObjects.PushObject(L, applet, st.Classes.AppletTcp, st.Classes.Handle, 4);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Getline(IntPtr L) => LuaCallback.Run(L, &GetlineImpl);

    private static int GetlineImpl(IntPtr L, LuaState st)
    {
        var ctx = LuaCallback.Self<TcpAppletContext>(L, 1, "AppletTCP.getline");
        var exec = LuaCallback.Require(st, LuaContextKind.Service | LuaContextKind.Cli, "AppletTCP.getline");
        return AppletInput.Getline(L, exec, ctx.Applet);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Receive(IntPtr L) => LuaCallback.Run(L, &ReceiveImpl);

    private static int ReceiveImpl(IntPtr L, LuaState st)
    {
        var ctx = LuaCallback.Self<TcpAppletContext>(L, 1, "AppletTCP.receive");
        var exec = LuaCallback.Require(st, LuaContextKind.Service | LuaContextKind.Cli, "AppletTCP.receive");
        return AppletInput.Receive(L, exec, ctx.Applet, LuaCallback.OptInteger(L, 2, "AppletTCP.receive", -1));
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Send(IntPtr L) => LuaCallback.Run(L, &SendImpl);

    private static int SendImpl(IntPtr L, LuaState st)
    {
        var ctx = LuaCallback.Self<TcpAppletContext>(L, 1, "AppletTCP.send");
        var exec = LuaCallback.Require(st, LuaContextKind.Service | LuaContextKind.Cli, "AppletTCP.send");
        var data = LuaCallback.Bytes(L, 2, "AppletTCP.send");
        return ctx.Applet.Send(data, exec) ? LuaStack.Yield(L) : 0;
    }
}
