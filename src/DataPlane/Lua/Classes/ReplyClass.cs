using System.Buffers;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using HaLua.DataPlane.Http;
using HaLua.DataPlane.Lua.Interop;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>
/// HAProxy 2.x's Reply class. The object is a plain Lua table <c>{status, reason, headers, body}</c>
/// made and filled by the prelude (<c>txn:reply()</c>, <c>set_status</c>, <c>add_header</c>...);
/// here is what turns one into the HTTP/1.1 response that <c>txn:done(reply)</c> sends.
/// </summary>
internal static unsafe class ReplyClass
{
    public static void Register(RawFunctions r) => r.Add("http_reason", &Reason);

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Reason(IntPtr L) => LuaCallback.Run(L, &ReasonImpl);

    /// <summary>The standard reason of a status, as HAProxy names it.</summary>
    private static int ReasonImpl(IntPtr L, LuaState st)
    {
        LuaStack.PushString(L, HttpResponses.Reason((int)Math.Clamp(LuaCallback.Integer(L, 1, "Reply.set_status"), int.MinValue, int.MaxValue)));
        return 1;
    }

    /// <summary>
    /// The response for the reply table at <paramref name="idx"/>: status (a number, 200 when
    /// absent or 0), reason (a string, else the status's), headers (<c>name = {values}</c> or
    /// <c>name = value</c>; names sent in lower case; content-length and transfer-encoding are
    /// dropped since the body is framed here) and body (a string), with content-length except for
    /// 204 and 304, which have no body. False and why when the reply cannot be sent as valid HTTP
    /// (an interim or out-of-range status, a name that is not a token, CR, LF or NUL in a value).
    /// </summary>
    public static bool TryBuild(IntPtr L, int idx, out byte[] response, out int status, out string? problem)
    {
        response = [];
        problem = null;
        status = 200;
        if (LuaStack.GetField(L, idx, "status") == LUA_TNUMBER && LuaStack.TryGetInteger(L, -1, out long s) && s != 0)
        {
            status = (int)Math.Clamp(s, -1, 1000);
        }

        lua_pop(L, 1);
        if (status is < 200 or > 999)
        {
            problem = $"status {status} cannot be a final response (200 to 999)";
            return false;
        }

        var w = new ArrayBufferWriter<byte>(256);
        Put(w, "HTTP/1.1 "u8);
        Put(w, status.ToString(CultureInfo.InvariantCulture));
        Put(w, " "u8);
        if (LuaStack.GetField(L, idx, "reason") == LUA_TSTRING)
        {
            var reason = LuaStack.ToBytes(L, -1);
            if (reason.IndexOfAny("\r\n\0"u8) >= 0)
            {
                lua_pop(L, 1);
                problem = "CR, LF or NUL in the reason";
                return false;
            }

            Put(w, reason);
        }
        else
        {
            Put(w, HttpResponses.Reason(status));
        }

        lua_pop(L, 1);
        Put(w, "\r\n"u8);
        if (LuaStack.GetField(L, idx, "headers") == LUA_TTABLE && !PutHeaders(L, w, out problem))
        {
            lua_pop(L, 1);
            return false;
        }

        lua_pop(L, 1);
        bool hasBody = status is not (204 or 304);
        ReadOnlySpan<byte> body = default;
        int bodyType = LuaStack.GetField(L, idx, "body");
        if (hasBody && bodyType == LUA_TSTRING)
        {
            body = LuaStack.ToBytes(L, -1);
        }

        if (hasBody)
        {
            Put(w, "content-length: "u8);
            Put(w, body.Length.ToString(CultureInfo.InvariantCulture));
            Put(w, "\r\n"u8);
        }

        Put(w, "\r\n"u8);
        Put(w, body);
        lua_pop(L, 1);
        response = w.WrittenSpan.ToArray();
        return true;
    }

    /// <summary>The headers table at the top of the stack, in the order lua_next gives them.</summary>
    private static bool PutHeaders(IntPtr L, ArrayBufferWriter<byte> w, out string? problem)
    {
        problem = null;
        lua_pushnil(L);
        while (lua_next(L, -2) != 0)
        {
            // A copy of the key: converting a number key in place would confuse lua_next.
            lua_pushvalue(L, -2);
            bool ok = PutField(L, w, out problem);
            lua_pop(L, 2);
            if (!ok)
            {
                lua_pop(L, 1);
                return false;
            }
        }

        return true;
    }

    /// <summary>One entry (name copy at -1, value at -2): every value as a header line.</summary>
    private static bool PutField(IntPtr L, ArrayBufferWriter<byte> w, out string? problem)
    {
        problem = null;
        if (!LuaStack.IsStringOrNumber(L, -1))
        {
            return true;
        }

        var name = LuaStack.ToBytes(L, -1);
        if (name.IsEmpty || !IsToken(name))
        {
            problem = $"'{Encoding.Latin1.GetString(name)}' is not a valid header name";
            return false;
        }

        if (name.Length is 14 or 17 && (Ascii.EqualsIgnoreCase(name, "content-length"u8) || Ascii.EqualsIgnoreCase(name, "transfer-encoding"u8)))
        {
            return true;
        }

        if (lua_type(L, -2) == LUA_TTABLE)
        {
            for (int i = 1; ; i++)
            {
                lua_rawgeti(L, -2, i);
                if (!LuaStack.IsStringOrNumber(L, -1))
                {
                    lua_pop(L, 1);
                    return true;
                }

                bool ok = PutLine(L, w, -2, -1, out problem);
                lua_pop(L, 1);
                if (!ok)
                {
                    return false;
                }
            }
        }

        return !LuaStack.IsStringOrNumber(L, -2) || PutLine(L, w, -1, -2, out problem);
    }

    private static bool PutLine(IntPtr L, ArrayBufferWriter<byte> w, int nameIdx, int valueIdx, out string? problem)
    {
        problem = null;
        var value = LuaStack.ToBytes(L, valueIdx);
        if (value.IndexOfAny("\r\n\0"u8) >= 0)
        {
            problem = "CR, LF or NUL in a header value";
            return false;
        }

        var name = LuaStack.ToBytes(L, nameIdx);
        var span = w.GetSpan(name.Length);
        for (int i = 0; i < name.Length; i++)
        {
            span[i] = (byte)(name[i] is >= (byte)'A' and <= (byte)'Z' ? name[i] | 0x20 : name[i]);
        }

        w.Advance(name.Length);
        Put(w, ": "u8);
        Put(w, value);
        Put(w, "\r\n"u8);
        return true;
    }

    private static bool IsToken(ReadOnlySpan<byte> name)
    {
        foreach (byte b in name)
        {
            bool ok = b is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'z' or >= (byte)'A' and <= (byte)'Z'
                || "!#$%&'*+-.^_`|~"u8.Contains(b);
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    private static void Put(ArrayBufferWriter<byte> w, ReadOnlySpan<byte> bytes) => w.Write(bytes);

    private static void Put(ArrayBufferWriter<byte> w, string ascii) => Put(w, Encoding.Latin1.GetBytes(ascii));
}
