using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using HaLua.DataPlane.Lua.Applets;
using HaLua.DataPlane.Http;
using HaLua.DataPlane.Lua.Interop;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>HAProxy's AppletHTTP class: request attributes, set_status, add_header, start_response, getline, receive, send.</summary>
internal static unsafe class AppletHttpClass
{
    public static void Register(RawFunctions r)
    {
        r.Add("applet_http_set_status", &SetStatus);
        r.Add("applet_http_add_header", &AddHeader);
        r.Add("applet_http_start_response", &StartResponse);
        r.Add("applet_http_getline", &Getline);
        r.Add("applet_http_receive", &Receive);
        r.Add("applet_http_send", &Send);
    }

    /// <summary>
    /// The request as the applet sees it: its parsed head over the head's bytes (the spec's
    /// attributes are pushed from these bytes, nothing is copied into .NET strings). The bytes
    /// must stay as they are until <see cref="Push"/> ran.
    /// </summary>
    internal readonly record struct RequestInfo(HttpHead Head, ReadOnlyMemory<byte> HeadBytes, long Length);

    /// <summary>Pushes {[0]=handle, method, version, path, qs, length, headers} (f, sf, c, sc are made on first use).</summary>
    public static void Push(IntPtr L, LuaState st, HttpAppletContext applet, RequestInfo request)
    {
        var head = request.Head;
        var bytes = request.HeadBytes.Span;
        var target = bytes[head.Target];
        int q = target.IndexOf((byte)'?');
        LuaObjects.PushObject(L, applet, st.Classes.AppletHttp, st.Classes.Handle, 10);
        LuaStack.PushBytes(L, bytes[head.Method]);
        LuaStack.SetField(L, -2, "method");
        LuaStack.PushBytes(L, "HTTP/1.1"u8);
        LuaStack.SetField(L, -2, "version");
        LuaStack.PushBytes(L, Samples.HttpFetches.Path(target));
        LuaStack.SetField(L, -2, "path");
        LuaStack.PushBytes(L, q < 0 ? default : target[(q + 1)..]);
        LuaStack.SetField(L, -2, "qs");
        lua_pushinteger(L, request.Length);
        LuaStack.SetField(L, -2, "length");

        // headers["name"][i] = value, names in lower case, indexes from 0.
        HttpClass.PushHeaderTable(L, head, bytes);
        LuaStack.SetField(L, -2, "headers");
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetStatus(IntPtr L) => LuaCallback.Run(L, &SetStatusImpl);

    private static int SetStatusImpl(IntPtr L, LuaState st)
    {
        var ctx = LuaCallback.Self<HttpAppletContext>(L, 1, "AppletHTTP.set_status");
        long code = LuaCallback.Integer(L, 2, "AppletHTTP.set_status");
        if (code is < 100 or > 599)
        {
            throw new LuaArgumentException("AppletHTTP.set_status: the status code must be between 100 and 599");
        }

        ctx.Applet.Status = (int)code;
        ctx.Applet.Reason = lua_type(L, 3) > LUA_TNIL ? LuaCallback.String(L, 3, "AppletHTTP.set_status") : null;
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int AddHeader(IntPtr L) => LuaCallback.Run(L, &AddHeaderImpl);

    private static int AddHeaderImpl(IntPtr L, LuaState st)
    {
        var ctx = LuaCallback.Self<HttpAppletContext>(L, 1, "AppletHTTP.add_header");
        if (ctx.Applet.Started)
        {
            throw new LuaArgumentException("AppletHTTP.add_header: the response is already started");
        }

        if (!ctx.Applet.AddHeader(LuaCallback.Bytes(L, 2, "AppletHTTP.add_header"), LuaCallback.Bytes(L, 3, "AppletHTTP.add_header")))
        {
            throw new LuaArgumentException("AppletHTTP.add_header: invalid header name or value");
        }

        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int StartResponse(IntPtr L) => LuaCallback.Run(L, &StartResponseImpl);

    private static int StartResponseImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Self<HttpAppletContext>(L, 1, "AppletHTTP.start_response").Applet.StartResponse();
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Getline(IntPtr L) => LuaCallback.Run(L, &GetlineImpl);

    private static int GetlineImpl(IntPtr L, LuaState st)
    {
        var ctx = LuaCallback.Self<HttpAppletContext>(L, 1, "AppletHTTP.getline");
        var exec = LuaCallback.Require(st, LuaContextKind.Service, "AppletHTTP.getline");
        return AppletInput.Getline(L, exec, ctx.Applet);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Receive(IntPtr L) => LuaCallback.Run(L, &ReceiveImpl);

    private static int ReceiveImpl(IntPtr L, LuaState st)
    {
        var ctx = LuaCallback.Self<HttpAppletContext>(L, 1, "AppletHTTP.receive");
        var exec = LuaCallback.Require(st, LuaContextKind.Service, "AppletHTTP.receive");
        return AppletInput.Receive(L, exec, ctx.Applet, LuaCallback.OptInteger(L, 2, "AppletHTTP.receive", -1));
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Send(IntPtr L) => LuaCallback.Run(L, &SendImpl);

    private static int SendImpl(IntPtr L, LuaState st)
    {
        var ctx = LuaCallback.Self<HttpAppletContext>(L, 1, "AppletHTTP.send");
        var exec = LuaCallback.Require(st, LuaContextKind.Service, "AppletHTTP.send");
        if (!ctx.Applet.Started)
        {
            throw new LuaArgumentException("AppletHTTP.send: call start_response() first");
        }

        return ctx.Applet.Send(LuaCallback.Bytes(L, 2, "AppletHTTP.send"), exec) ? LuaStack.Yield(L) : 0;
    }
}
