using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HaLua.DataPlane.Lua.Interop;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>HAProxy's Channel class over a stream's request or response buffer (TCP mode only).</summary>
internal static unsafe class ChannelClass
{
    private const string HttpModeError = "Cannot manipulate HAProxy channels in HTTP mode.";

    public static void Register(RawFunctions r)
    {
        r.Add("channel_dup", &Dup);
        r.Add("channel_get", &Get);
        r.Add("channel_getline", &Getline);
        r.Add("channel_set", &Set);
        r.Add("channel_append", &Append);
        r.Add("channel_send", &Send);
        r.Add("channel_get_in_len", &GetInLen);
        r.Add("channel_get_out_len", &GetOutLen);
        r.Add("channel_forward", &Forward);
        r.Add("channel_is_full", &IsFull);
    }

    public static void Push(IntPtr L, LuaState st, ChannelContext channel)
        => LuaObjects.PushObject(L, channel, st.Classes.Channel, st.Classes.Handle);

    /// <summary>
    /// The channel of the call. In HTTP mode every channel function raises HAProxy 2.x's error: the
    /// stream is parsed HTTP messages, not raw bytes a script could read or splice.
    /// </summary>
    private static ChannelContext Self(IntPtr L, string fn)
    {
        var ch = LuaCallback.Self<ChannelContext>(L, 1, fn);
        if (ch.Txn.Host.IsHttp)
        {
            throw new LuaArgumentException(HttpModeError);
        }

        // A request action cannot read the response, nor a response action the request (spec, class Channel).
        if ((ch.Txn.Phase is LuaActionTargets.TcpReq or LuaActionTargets.HttpReq) && !ch.IsRequest)
        {
            throw new LuaArgumentException($"{fn}: the response channel is not available in a request action");
        }

        if ((ch.Txn.Phase is LuaActionTargets.TcpRes or LuaActionTargets.HttpRes) && ch.IsRequest)
        {
            throw new LuaArgumentException($"{fn}: the request channel is not available in a response action");
        }

        return ch;
    }

    /// <summary>Data present: take it; none and the input closed: nil; else wait for more (the wrapper retries).</summary>
    private static int ReadOrWait(IntPtr L, LuaState st, ChannelContext ch, string fn, bool consume)
    {
        var exec = LuaCallback.Require(st, CoreClass.Yieldable, fn);
        var buf = ch.Buffer;
        if (buf.InLength > 0)
        {
            LuaStack.PushBytes(L, buf.Input);
            if (consume)
            {
                buf.ConsumeInput(buf.InLength);
            }

            return 1;
        }

        if (buf.InputClosed)
        {
            lua_pushnil(L);
            return 1;
        }

        exec.Waiter = ch;
        return LuaStack.Yield(L);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Dup(IntPtr L) => LuaCallback.Run(L, &DupImpl);

    private static int DupImpl(IntPtr L, LuaState st) => ReadOrWait(L, st, Self(L, "Channel.dup"), "Channel.dup", consume: false);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Get(IntPtr L) => LuaCallback.Run(L, &GetImpl);

    private static int GetImpl(IntPtr L, LuaState st) => ReadOrWait(L, st, Self(L, "Channel.get"), "Channel.get", consume: true);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Getline(IntPtr L) => LuaCallback.Run(L, &GetlineImpl);

    private static int GetlineImpl(IntPtr L, LuaState st)
    {
        var ch = Self(L, "Channel.getline");
        var exec = LuaCallback.Require(st, CoreClass.Yieldable, "Channel.getline");
        var buf = ch.Buffer;
        var input = buf.Input;
        int nl = input.IndexOf((byte)'\n');
        if (nl >= 0 || ((buf.InputClosed || buf.IsFull) && input.Length > 0))
        {
            int n = nl >= 0 ? nl + 1 : input.Length;
            LuaStack.PushBytes(L, input[..n]);
            buf.ConsumeInput(n);
            return 1;
        }

        if (buf.InputClosed)
        {
            lua_pushnil(L);
            return 1;
        }

        exec.Waiter = ch;
        return LuaStack.Yield(L);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Set(IntPtr L) => LuaCallback.Run(L, &SetImpl);

    private static int SetImpl(IntPtr L, LuaState st)
    {
        var ch = Self(L, "Channel.set");
        var data = LuaCallback.Bytes(L, 2, "Channel.set");
        if (ch.Buffer.OutLength + data.Length > ch.Buffer.Size)
        {
            lua_pushinteger(L, -1);
            return 1;
        }

        lua_pushinteger(L, ch.Buffer.SetInput(data));
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Append(IntPtr L) => LuaCallback.Run(L, &AppendImpl);

    private static int AppendImpl(IntPtr L, LuaState st)
    {
        var ch = Self(L, "Channel.append");
        var data = LuaCallback.Bytes(L, 2, "Channel.append");
        if (ch.Buffer.Total + data.Length > ch.Buffer.Size)
        {
            lua_pushinteger(L, -1);
            return 1;
        }

        lua_pushinteger(L, ch.Buffer.AppendInput(data));
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Send(IntPtr L) => LuaCallback.Run(L, &SendImpl);

    private static int SendImpl(IntPtr L, LuaState st)
    {
        var ch = Self(L, "Channel.send");
        var data = LuaCallback.Bytes(L, 2, "Channel.send");
        lua_pushinteger(L, ch.Buffer.AppendOutput(data));
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetInLen(IntPtr L) => LuaCallback.Run(L, &GetInLenImpl);

    private static int GetInLenImpl(IntPtr L, LuaState st)
    {
        lua_pushinteger(L, Self(L, "Channel.get_in_len").Buffer.InLength);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetOutLen(IntPtr L) => LuaCallback.Run(L, &GetOutLenImpl);

    private static int GetOutLenImpl(IntPtr L, LuaState st)
    {
        lua_pushinteger(L, Self(L, "Channel.get_out_len").Buffer.OutLength);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Forward(IntPtr L) => LuaCallback.Run(L, &ForwardImpl);

    private static int ForwardImpl(IntPtr L, LuaState st)
    {
        var ch = Self(L, "Channel.forward");
        long n = LuaCallback.Integer(L, 2, "Channel.forward");
        lua_pushinteger(L, ch.Buffer.Forward((int)Math.Clamp(n, 0, int.MaxValue)));
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int IsFull(IntPtr L) => LuaCallback.Run(L, &IsFullImpl);

    private static int IsFullImpl(IntPtr L, LuaState st)
    {
        LuaStack.PushBool(L, Self(L, "Channel.is_full").Buffer.IsFull);
        return 1;
    }
}
