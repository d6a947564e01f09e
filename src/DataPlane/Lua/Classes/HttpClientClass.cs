using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using HaLua.DataPlane.Http;
using HaLua.DataPlane.Lua.Interop;
using HaLua.DataPlane.Lua.Net;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>
/// HAProxy's HTTPClient class (2.5+): <c>core.httpclient()</c>, then
/// <c>hc:get/head/put/post/delete{url=, headers=, body=, timeout=, dst=}</c>, each returning
/// <c>{status=, reason=, headers={name={[0]=v1, ...}}, body=}</c>. The request is sent by
/// <see cref="HttpClientExchange"/>; the method waits for the response without blocking a thread.
/// </summary>
internal static unsafe partial class HttpClientClass
{
    public static void Register(RawFunctions r)
    {
        r.Add("httpclient_new", &New);
        r.Add("httpclient_request", &Request);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int New(IntPtr L) => LuaCallback.Run(L, &NewImpl);

    private static int NewImpl(IntPtr L, LuaState st)
    {
        LuaCallback.Require(st, SocketClass.Contexts, "core.httpclient");
        LuaObjects.PushHandle(L, new LuaHttpClient(), st.Classes.Handle);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Request(IntPtr L) => LuaCallback.Run(L, &RequestImpl);

    /// <summary>Arguments: client, again, method, request table.</summary>
    private static int RequestImpl(IntPtr L, LuaState st)
    {
        string method = LuaCallback.String(L, 3, "HTTPClient");
        string name = method.ToLowerInvariant();
        var hc = LuaCallback.Self<LuaHttpClient>(L, 1, "HTTPClient." + name);
        var exec = LuaCallback.Require(st, SocketClass.Contexts, "HTTPClient." + name);
        if (lua_toboolean(L, 2) == 0)
        {
            if (hc.Busy)
            {
                throw new LuaArgumentException($"'{name}': this httpclient already runs a request");
            }

            hc.Start(ReadRequest(L, 4, method, name), st.Engine.Settings.HttpClientVerify, SocketClass.Worker(st), exec);
        }

        if (hc.Poll(exec) is not { } response)
        {
            return LuaStack.Yield(L);
        }

        PushResponse(L, response);
        return 1;
    }

    /// <summary>{status=, reason=, headers=, body=}; the headers as AppletHTTP's (lower-case names, values from index 0), without connection.</summary>
    private static void PushResponse(IntPtr L, HttpClientResponse response)
    {
        var bytes = response.HeadBytes;
        var head = response.Head;
        lua_createtable(L, 0, 4);
        lua_pushinteger(L, head.Status);
        LuaStack.SetField(L, -2, "status");
        LuaStack.PushBytes(L, bytes.AsSpan()[head.Reason]);
        LuaStack.SetField(L, -2, "reason");

        // The connection header is hop-by-hop: HAProxy removes it before the script sees the response.
        var kept = new List<HttpField>(head.FieldCount);
        foreach (var f in head.Fields)
        {
            if (!Ascii.EqualsIgnoreCase(f.Name(bytes), "connection"u8))
            {
                kept.Add(f);
            }
        }

        head.SetFields(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(kept));
        HttpClass.PushHeaderTable(L, head, bytes);
        LuaStack.SetField(L, -2, "headers");
        LuaStack.PushBytes(L, response.Body);
        LuaStack.SetField(L, -2, "body");
    }
}
