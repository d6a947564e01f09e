using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using HaLua.DataPlane.Http;
using HaLua.DataPlane.Lua.Interop;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>
/// HAProxy's HTTP class: the request's and the response's headers, read and rewritten through
/// the stream's <see cref="HeadEditor"/> (what later rules and fetches see). <c>req_*</c>
/// functions work in http-req actions, <c>res_*</c> in http-res actions, as in HAProxy.
/// </summary>
internal static unsafe class HttpClass
{
    private static readonly ConcurrentDictionary<string, Regex> Regexes = new(StringComparer.Ordinal);

    public static void Register(RawFunctions r)
    {
        r.Add("http_get_headers", &GetHeaders);
        r.Add("http_add_header", &AddHeader);
        r.Add("http_set_header", &SetHeader);
        r.Add("http_del_header", &DelHeader);
        r.Add("http_rep_header", &RepHeader);
        r.Add("http_rep_value", &RepValue);
        r.Add("http_set_method", &SetMethod);
        r.Add("http_set_path", &SetPath);
        r.Add("http_set_query", &SetQuery);
        r.Add("http_set_uri", &SetUri);
        r.Add("http_set_status", &SetStatus);
    }

    public static void Push(IntPtr L, LuaState st, HttpContext http)
        => LuaObjects.PushObject(L, http, st.Classes.Http, st.Classes.Handle);

    /// <summary>
    /// A table of the head's fields: <c>t[name][i] = value</c>, names in lower case, indexes from
    /// 0 in the order received (AppletHTTP.headers and HTTP.req_get_headers).
    /// </summary>
    public static void PushHeaderTable(IntPtr L, HttpHead head, ReadOnlySpan<byte> bytes)
    {
        lua_createtable(L, 0, head.FieldCount);
        Span<byte> lower = stackalloc byte[256];
        foreach (var f in head.Fields)
        {
            var name = f.Name(bytes);
            var key = name.Length <= lower.Length ? lower[..name.Length] : new byte[name.Length];
            Ascii.ToLower(name, key, out _);
            LuaStack.PushBytes(L, key);
            if (lua_rawget(L, -2) != LUA_TTABLE)
            {
                lua_pop(L, 1);
                lua_createtable(L, 2, 0);
                LuaStack.PushBytes(L, key);
                lua_pushvalue(L, -2);
                lua_rawset(L, -4);
            }

            long next = 0;
            while (lua_rawgeti(L, -1, next) != LUA_TNIL)
            {
                lua_pop(L, 1);
                next++;
            }

            lua_pop(L, 1);
            LuaStack.PushBytes(L, f.Value(bytes));
            lua_rawseti(L, -2, next);
            lua_pop(L, 1);
        }
    }

    /// <summary>The message of the call: the request in http-req actions, the response in http-res actions.</summary>
    private static (ILuaHttpHost Host, HttpHead Head) Message(IntPtr L, bool response, string fn)
    {
        var http = LuaCallback.Self<HttpContext>(L, 1, fn);
        bool responsePhase = http.Txn.Phase == LuaActionTargets.HttpRes;
        if (response != responsePhase)
        {
            throw new LuaArgumentException($"{fn}: only available in an {(response ? "http-res" : "http-req")} action");
        }

        var head = http.Host.MessageHead(response) ?? throw new LuaArgumentException($"{fn}: there is no {(response ? "response" : "request")} now");
        return (http.Host, head);
    }

    private static string Name(bool response, string what) => (response ? "HTTP.res_" : "HTTP.req_") + what;

    /// <summary>Runs one edit; a refused one (invalid bytes, too large) is a Lua error and does not fail the stream.</summary>
    private static void Edit(HeadEditor editor, bool done, string fn)
    {
        if (!done)
        {
            editor.ClearFailure();
            throw new LuaArgumentException($"{fn}: the rewrite was refused (CR, LF or NUL in a value, an invalid name, or a head larger than tune.bufsize)");
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int GetHeaders(IntPtr L) => LuaCallback.Run(L, &GetHeadersImpl);

    private static int GetHeadersImpl(IntPtr L, LuaState st)
    {
        bool response = lua_toboolean(L, 2) != 0;
        var (host, head) = Message(L, response, Name(response, "get_headers"));
        PushHeaderTable(L, head, host.MessageBytes(response));
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int AddHeader(IntPtr L) => LuaCallback.Run(L, &AddHeaderImpl);

    private static int AddHeaderImpl(IntPtr L, LuaState st)
    {
        bool response = lua_toboolean(L, 2) != 0;
        string fn = Name(response, "add_header");
        var (host, head) = Message(L, response, fn);
        var editor = host.MessageEditor(response);
        Edit(editor, editor.Add(head, host.MessageBytes(response), LuaCallback.Bytes(L, 3, fn), LuaCallback.Bytes(L, 4, fn)), fn);
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetHeader(IntPtr L) => LuaCallback.Run(L, &SetHeaderImpl);

    private static int SetHeaderImpl(IntPtr L, LuaState st)
    {
        bool response = lua_toboolean(L, 2) != 0;
        string fn = Name(response, "set_header");
        var (host, head) = Message(L, response, fn);
        var editor = host.MessageEditor(response);
        Edit(editor, editor.Set(head, host.MessageBytes(response), LuaCallback.Bytes(L, 3, fn), LuaCallback.Bytes(L, 4, fn)), fn);
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int DelHeader(IntPtr L) => LuaCallback.Run(L, &DelHeaderImpl);

    private static int DelHeaderImpl(IntPtr L, LuaState st)
    {
        bool response = lua_toboolean(L, 2) != 0;
        string fn = Name(response, "del_header");
        var (host, head) = Message(L, response, fn);
        var editor = host.MessageEditor(response);
        Edit(editor, editor.Delete(head, host.MessageBytes(response), LuaCallback.Bytes(L, 3, fn)), fn);
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int RepHeader(IntPtr L) => LuaCallback.Run(L, &RepHeaderImpl);

    private static int RepHeaderImpl(IntPtr L, LuaState st) => Replace(L, eachValue: false);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int RepValue(IntPtr L) => LuaCallback.Run(L, &RepValueImpl);

    private static int RepValueImpl(IntPtr L, LuaState st) => Replace(L, eachValue: true);

    private static int Replace(IntPtr L, bool eachValue)
    {
        bool response = lua_toboolean(L, 2) != 0;
        string fn = Name(response, eachValue ? "rep_value" : "rep_header");
        var (host, head) = Message(L, response, fn);
        var name = LuaCallback.Bytes(L, 3, fn);
        var regex = Compile(Encoding.Latin1.GetString(LuaCallback.Bytes(L, 4, fn)), fn);
        string replacement = Encoding.Latin1.GetString(LuaCallback.Bytes(L, 5, fn));
        var editor = host.MessageEditor(response);
        Edit(editor, editor.Replace(head, host.MessageBytes(response), name, regex, replacement, eachValue), fn);
        return 0;
    }

    private static Regex Compile(string pattern, string fn)
    {
        if (Regexes.TryGetValue(pattern, out var cached))
        {
            return cached;
        }

        Regex regex;
        try
        {
            regex = new Regex(pattern, RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));
        }
        catch (ArgumentException ex)
        {
            throw new LuaArgumentException($"{fn}: invalid regex '{pattern}': {ex.Message}");
        }

        if (Regexes.Count > 1024)
        {
            Regexes.Clear();
        }

        Regexes[pattern] = regex;
        return regex;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetMethod(IntPtr L) => LuaCallback.Run(L, &SetMethodImpl);

    private static int SetMethodImpl(IntPtr L, LuaState st) => SetLine(L, RequestLinePart.Method, "HTTP.req_set_method");

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetPath(IntPtr L) => LuaCallback.Run(L, &SetPathImpl);

    private static int SetPathImpl(IntPtr L, LuaState st) => SetLine(L, RequestLinePart.Path, "HTTP.req_set_path");

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetQuery(IntPtr L) => LuaCallback.Run(L, &SetQueryImpl);

    private static int SetQueryImpl(IntPtr L, LuaState st) => SetLine(L, RequestLinePart.Query, "HTTP.req_set_query");

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetUri(IntPtr L) => LuaCallback.Run(L, &SetUriImpl);

    private static int SetUriImpl(IntPtr L, LuaState st) => SetLine(L, RequestLinePart.Uri, "HTTP.req_set_uri");

    private static int SetLine(IntPtr L, RequestLinePart part, string fn)
    {
        var (host, head) = Message(L, response: false, fn);
        var bytes = host.MessageBytes(false);
        var value = LuaCallback.Bytes(L, 2, fn);
        var editor = host.MessageEditor(false);
        bool done = editor.SetRequestPart(head, bytes, part, value);
        Edit(editor, done, fn);
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int SetStatus(IntPtr L) => LuaCallback.Run(L, &SetStatusImpl);

    private static int SetStatusImpl(IntPtr L, LuaState st)
    {
        const string fn = "HTTP.res_set_status";
        var (host, head) = Message(L, response: true, fn);
        long status = LuaCallback.Integer(L, 2, fn);
        if (status is < 100 or > 999)
        {
            throw new LuaArgumentException($"{fn}: invalid status code {status}");
        }

        string? reason = lua_isnoneornil(L, 3) ? null : Encoding.Latin1.GetString(LuaCallback.Bytes(L, 3, fn));
        var editor = host.MessageEditor(true);
        Edit(editor, editor.SetStatus(head, host.MessageBytes(true), (int)status, reason), fn);
        return 0;
    }
}
