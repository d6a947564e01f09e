using System.Buffers;
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
internal static unsafe class SocketClass
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
            string address = LuaCallback.String(L, 3, fn);
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

    private static int PushFailure(IntPtr L, string message)
    {
        lua_pushnil(L);
        LuaStack.PushString(L, message);
        return 2;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Send(IntPtr L) => LuaCallback.Run(L, &SendImpl);

    /// <summary>Arguments: socket, again, data[, i[, j]]; i and j as string.sub's.</summary>
    private static int SendImpl(IntPtr L, LuaState st)
    {
        const string fn = "Socket.send";
        var sock = LuaCallback.Self<LuaSocket>(L, 1, fn);
        var exec = LuaCallback.Require(st, Contexts, fn);
        var data = LuaCallback.Bytes(L, 3, fn);
        long size = data.Length;
        long i = LuaCallback.OptInteger(L, 4, fn, 1);
        long j = LuaCallback.OptInteger(L, 5, fn, -1);
        if (i < 0)
        {
            i = size + i + 1;
        }

        if (j < 0)
        {
            j = size + j + 1;
        }

        i = Math.Max(i, 1);
        j = Math.Min(j, size);

        SocketStatus status;
        if (lua_toboolean(L, 2) != 0)
        {
            status = sock.PollSend(exec);
        }
        else if (i > j)
        {
            // Nothing to send: LuaSocket answers the index before the range.
            status = sock.Connected ? SocketStatus.Done : SocketStatus.Closed;
        }
        else
        {
            status = sock.StartSend(data.Slice((int)i - 1, (int)(j - i + 1)), exec);
        }

        switch (status)
        {
            case SocketStatus.Wait:
                return LuaStack.Yield(L);
            case SocketStatus.Done:
                // LuaSocket: the index of the last byte sent (with i absent, the number of bytes).
                lua_pushinteger(L, Math.Max(j, i - 1));
                return 1;
            default:
                lua_pushnil(L);
                LuaStack.PushString(L, status == SocketStatus.TimedOut ? "timeout" : "closed");
                lua_pushinteger(L, i - 1);
                return 3;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Receive(IntPtr L) => LuaCallback.Run(L, &ReceiveImpl);

    /// <summary>Arguments: socket, again[, pattern[, prefix]].</summary>
    private static int ReceiveImpl(IntPtr L, LuaState st)
    {
        const string fn = "Socket.receive";
        var sock = LuaCallback.Self<LuaSocket>(L, 1, fn);
        var exec = LuaCallback.Require(st, Contexts, fn);
        var pattern = Pattern(L, 3, fn);
        var prefix = lua_isnoneornil(L, 4) ? default : LuaCallback.Bytes(L, 4, fn);

        // The prefix counts inside a byte count (HAProxy, REALITY.md): receive(5, "ab") reads 3 bytes.
        if (pattern.Kind == ReceiveKind.Count)
        {
            pattern = ReceivePattern.Bytes(Math.Max(0, pattern.Count - prefix.Length));
        }

        var status = sock.Receive(pattern, again: lua_toboolean(L, 2) != 0, exec, out int length, out int consume);
        switch (status)
        {
            case ReceiveStatus.NeedMore:
                return LuaStack.Yield(L);
            case ReceiveStatus.Closed:
                lua_pushnil(L);
                LuaStack.PushString(L, "closed");
                LuaStack.PushBytes(L, prefix);
                return 3;
        }

        int n = 0;
        if (status == ReceiveStatus.Timeout)
        {
            lua_pushnil(L);
            LuaStack.PushString(L, "timeout");
            n = 2;
        }

        PushJoined(L, prefix, sock.Buffered[..length], dropCr: pattern.Kind == ReceiveKind.Line);
        sock.Consume(consume);
        return n + 1;
    }

    /// <summary>The pattern argument: nil or "*l" (a line), "*a" (all), or a byte count (a number, or a string that is one).</summary>
    private static ReceivePattern Pattern(IntPtr L, int idx, string fn)
    {
        if (lua_isnoneornil(L, idx))
        {
            return ReceivePattern.Line;
        }

        if (lua_type(L, idx) == LUA_TSTRING && LuaStack.ToBytes(L, idx) is var s && s.Length > 0 && s[0] == (byte)'*')
        {
            if (s.SequenceEqual("*l"u8))
            {
                return ReceivePattern.Line;
            }

            if (s.SequenceEqual("*a"u8))
            {
                return ReceivePattern.All;
            }

            throw new LuaArgumentException($"{fn}: bad argument #1 (invalid pattern '{LuaStack.ToStringOrNull(L, idx)}': use '*l', '*a' or a number)");
        }

        if (lua_isnumber(L, idx) != 0 && LuaStack.TryGetInteger(L, idx, out long count))
        {
            if (count < 0)
            {
                throw new LuaArgumentException($"{fn}: bad argument #1 (the byte count must not be negative)");
            }

            return ReceivePattern.Bytes((int)Math.Min(count, int.MaxValue));
        }

        throw new LuaArgumentException($"{fn}: bad argument #1 (invalid pattern: use '*l', '*a' or a number, got {LuaStack.TypeName(L, idx)})");
    }

    /// <summary>Pushes prefix .. data as one Lua string; for a line, the CRs of data are left out.</summary>
    private static void PushJoined(IntPtr L, ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> data, bool dropCr)
    {
        bool hasCr = dropCr && data.Contains((byte)'\r');
        if (prefix.IsEmpty && !hasCr)
        {
            LuaStack.PushBytes(L, data);
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(prefix.Length + data.Length);
        prefix.CopyTo(buffer);
        int n = prefix.Length;
        if (hasCr)
        {
            foreach (byte b in data)
            {
                if (b != (byte)'\r')
                {
                    buffer[n++] = b;
                }
            }
        }
        else
        {
            data.CopyTo(buffer.AsSpan(n));
            n += data.Length;
        }

        LuaStack.PushBytes(L, buffer.AsSpan(0, n));
        ArrayPool<byte>.Shared.Return(buffer);
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
