using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HaLua.DataPlane.Lua.Interop;
using HaLua.DataPlane.Lua.Net;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>
/// HAProxy's Socket class (<c>core.tcp()</c>): a LuaSocket-compatible TCP client. The waiting
/// calls (connect, send, receive) return YIELD while their I/O is pending and are called again by
/// the prelude with <c>again = true</c> (see <see cref="LuaSocket"/>). Results use the document's
/// words: <c>nil, "closed"</c> and <c>nil, "timeout"</c>, with the partial data.
/// </summary>
internal static unsafe partial class SocketClass
{
    /// <summary>The spec's init, task and action, and the other contexts that may wait (service, cli), as HAProxy 2.6.</summary>
    internal const LuaContextKind Contexts = LuaContextKind.Init | CoreClass.Yieldable;

    public static void Register(RawFunctions r)
    {
        r.Add("socket_new", &New);
        r.Add("socket_connect", &Connect);
        r.Add("socket_connect_ssl", &ConnectSsl);
        r.Add("socket_send", &Send);
        r.Add("socket_receive", &Receive);
        r.Add("socket_settimeout", &SetTimeout);
        r.Add("socket_getpeername", &GetPeerName);
        r.Add("socket_getsockname", &GetSockName);
        r.Add("socket_close", &Close);
        r.Add("socket_setoption", &SetOption);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int New(IntPtr L) => LuaCallback.Run(L, &NewImpl);

    private static int NewImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, Contexts, "core.tcp");
        LuaObjects.PushHandle(L, new LuaSocket(), HandleMetatable(L, st));
        return 1;
    }

    /// <summary>A socket's handle closes the connection when Lua collects it (or closes the state).</summary>
    private static int HandleMetatable(IntPtr L, LuaState st)
    {
        if (st.Classes.SocketHandle == 0)
        {
            lua_createtable(L, 0, 2);
            lua_pushcclosure(L, &Collect, 0);
            LuaStack.SetField(L, -2, "__gc");
            LuaStack.PushString(L, "halua.object");
            LuaStack.SetField(L, -2, "__metatable");
            st.Classes.SocketHandle = luaL_ref(L, LUA_REGISTRYINDEX);
        }

        return st.Classes.SocketHandle;
    }

    /// <summary>__gc of a socket's handle: closes the socket, frees the GCHandle. Never raises.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Collect(IntPtr L)
    {
        var p = (IntPtr*)lua_touserdata(L, 1);
        if (p == null || *p == IntPtr.Zero)
        {
            return 0;
        }

        var handle = GCHandle.FromIntPtr(*p);
        *p = IntPtr.Zero;
        try
        {
            (handle.Target as LuaSocket)?.Close();
        }
        catch
        {
            // never throw into native code
        }

        handle.Free();
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Connect(IntPtr L) => LuaCallback.Run(L, &ConnectImpl);

    private static int ConnectImpl(IntPtr L, LuaState st) => ConnectCommon(L, st, tls: false, "Socket.connect");

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int ConnectSsl(IntPtr L) => LuaCallback.Run(L, &ConnectSslImpl);

    private static int ConnectSslImpl(IntPtr L, LuaState st) => ConnectCommon(L, st, tls: true, "Socket.connect_ssl");

    /// <summary>Arguments: socket, again, address[, port].</summary>
    private static int ConnectCommon(IntPtr L, LuaState st, bool tls, string fn)
    {
        var sock = LuaCallback.Self<LuaSocket>(L, 1, fn);
        var exec = LuaCallback.Require(st, Contexts, fn);
        SocketStatus status;
        if (lua_toboolean(L, 2) != 0)
        {
            status = sock.PollConnect(exec);
        }
        else
        {
            string address = System.Text.Encoding.UTF8.GetString(BytesArg(L, 3, fn));
            long? port = null;
            if (!lua_isnoneornil(L, 4))
            {
                double p = lua_tonumberx(L, 4, out int ok);
                if (ok == 0 || p != Math.Floor(p) || double.IsInfinity(p))
                {
                    throw new LuaArgumentException($"{fn}: bad argument #2 (an integer port expected, got {LuaStack.TypeName(L, 4)})");
                }

                port = (long)Math.Clamp(p, int.MinValue, int.MaxValue);
            }

            switch (TargetAddress.TryParse(address, port, out var target))
            {
                case AddressError.Syntax:
                    throw new LuaArgumentException($"{fn}: cannot parse destination address '{address}'");
                case AddressError.PortMissing:
                    throw new LuaArgumentException($"{fn}: port missing");
                case AddressError.BadPort:
                    return PushFailure(L, "Can't connect");
            }

            status = sock.StartConnect(target!, tls, Worker(st), exec);
        }

        switch (status)
        {
            case SocketStatus.Wait:
                return LuaStack.Yield(L);
            case SocketStatus.Done:
                lua_pushinteger(L, 1);
                return 1;
            case SocketStatus.TimedOut:
                return PushFailure(L, "timeout");
            default:
                return PushFailure(L, "Can't connect");
        }
    }

    /// <summary>The event loop the script runs on (its stream's worker): the socket's I/O completes there.</summary>
    internal static int Worker(LuaState st) => HaLua.DataPlane.Io.EventLoop.Current?.Id ?? Math.Max(0, st.WorkerIndex);

    // The raw functions get (socket, again, args...): an argument's number for the script is its index - 2.
    private static ReadOnlySpan<byte> BytesArg(IntPtr L, int idx, string fn)
        => LuaStack.IsStringOrNumber(L, idx)
            ? LuaStack.ToBytes(L, idx)
            : throw new LuaArgumentException($"{fn}: bad argument #{idx - 2} (string expected, got {LuaStack.TypeName(L, idx)})");

    private static long OptIntegerArg(IntPtr L, int idx, string fn, long @default)
    {
        if (lua_isnoneornil(L, idx))
        {
            return @default;
        }

        return LuaStack.TryGetInteger(L, idx, out long v)
            ? v
            : throw new LuaArgumentException($"{fn}: bad argument #{idx - 2} (number expected, got {LuaStack.TypeName(L, idx)})");
    }

    private static int PushFailure(IntPtr L, string message)
    {
        lua_pushnil(L);
        LuaStack.PushString(L, message);
        return 2;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetTimeout(IntPtr L) => LuaCallback.Run(L, &SetTimeoutImpl);

    /// <summary>settimeout(value[, mode]): seconds (fractions allowed) for each later operation; the mode is accepted and ignored (the spec).</summary>
    private static int SetTimeoutImpl(IntPtr L, LuaState st)
    {
        const string fn = "Socket.settimeout";
        var sock = LuaCallback.Self<LuaSocket>(L, 1, fn);
        double value = lua_tonumberx(L, 2, out int ok);
        if (ok == 0 || double.IsNaN(value))
        {
            throw new LuaArgumentException($"{fn}: bad argument #1 (number expected, got {LuaStack.TypeName(L, 2)})");
        }

        if (value < 0)
        {
            throw new LuaArgumentException($"{fn}: cannot set negatives values");
        }

        if (!lua_isnoneornil(L, 3) && lua_type(L, 3) != LUA_TSTRING)
        {
            throw new LuaArgumentException($"{fn}: bad argument #2 (string expected, got {LuaStack.TypeName(L, 3)})");
        }

        sock.Timeout = double.IsInfinity(value) || value > int.MaxValue ? null : TimeSpan.FromSeconds(value);
        lua_pushinteger(L, 1);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetPeerName(IntPtr L) => LuaCallback.Run(L, &GetPeerNameImpl);

    private static int GetPeerNameImpl(IntPtr L, LuaState st)
    {
        LuaStack.PushStringOrNil(L, LuaCallback.Self<LuaSocket>(L, 1, "Socket.getpeername").Peer);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetSockName(IntPtr L) => LuaCallback.Run(L, &GetSockNameImpl);

    private static int GetSockNameImpl(IntPtr L, LuaState st)
    {
        LuaStack.PushStringOrNil(L, LuaCallback.Self<LuaSocket>(L, 1, "Socket.getsockname").Local);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Close(IntPtr L) => LuaCallback.Run(L, &CloseImpl);

    private static int CloseImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Self<LuaSocket>(L, 1, "Socket.close").Close();
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetOption(IntPtr L) => LuaCallback.Run(L, &SetOptionImpl);

    /// <summary>"Just implemented for compatibility, this call does nothing" (the spec).</summary>
    private static int SetOptionImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Self<LuaSocket>(L, 1, "Socket.setoption");
        return 0;
    }
}
