using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HaLua.DataPlane.Lua.Interop;
using HaLua.DataPlane.Lua.Net;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>Socket.send and Socket.receive: LuaSocket's results over <see cref="LuaSocket"/>.</summary>
internal static unsafe partial class SocketClass
{
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Send(IntPtr L) => LuaCallback.Run(L, &SendImpl);

    /// <summary>Arguments: socket, again, data[, i[, j]]; i and j as string.sub's.</summary>
    private static int SendImpl(IntPtr L, LuaState st)
    {
        const string fn = "Socket.send";
        var sock = LuaCallback.Self<LuaSocket>(L, 1, fn);
        var exec = LuaCallback.Require(st, Contexts, fn);
        var data = BytesArg(L, 3, fn);
        long size = data.Length;
        long i = OptIntegerArg(L, 4, fn, 1);
        long j = OptIntegerArg(L, 5, fn, -1);
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
            // Nothing to send: 0 bytes sent.
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
                // HAProxy (REALITY.md): the number of bytes sent, not LuaSocket's index of the last one.
                lua_pushinteger(L, Math.Max(0, j - i + 1));
                return 1;
            default:
                lua_pushnil(L);
                LuaStack.PushString(L, status == SocketStatus.TimedOut ? "timeout" : "closed");
                lua_pushinteger(L, 0);
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
        var prefix = lua_isnoneornil(L, 4) ? default : BytesArg(L, 4, fn);

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
}
