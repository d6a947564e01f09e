using System.Runtime.CompilerServices;
using System.Text;
using HaLua.DataPlane.Lua.Native;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Interop;

/// <summary>Byte-exact helpers over the Lua stack. Lua strings are bytes; nothing here raises a Lua error.</summary>
internal static unsafe class LuaStack
{
    /// <summary>Sentinel returned (with a message) by a C# function that wants its Lua wrapper to raise an error.</summary>
    public static readonly IntPtr ErrorMarker = 1;

    /// <summary>Sentinel returned by a C# function that wants its Lua wrapper to yield to the scheduler.</summary>
    public static readonly IntPtr YieldMarker = 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void PushBytes(IntPtr L, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
        {
            lua_pushlstring(L, p, (nuint)bytes.Length);
        }
    }

    public static void PushString(IntPtr L, string s)
    {
        int max = Encoding.UTF8.GetMaxByteCount(s.Length);
        if (max <= 512)
        {
            Span<byte> buf = stackalloc byte[max];
            int n = Encoding.UTF8.GetBytes(s, buf);
            PushBytes(L, buf[..n]);
        }
        else
        {
            PushBytes(L, Encoding.UTF8.GetBytes(s));
        }
    }

    public static void PushStringOrNil(IntPtr L, string? s)
    {
        if (s is null)
        {
            lua_pushnil(L);
        }
        else
        {
            PushString(L, s);
        }
    }

    /// <summary>The bytes of a string or number at idx (numbers are converted in place, as lua_tolstring does); empty span otherwise.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ReadOnlySpan<byte> ToBytes(IntPtr L, int idx)
    {
        byte* p = lua_tolstring(L, idx, out nuint len);
        return p == null ? default : new ReadOnlySpan<byte>(p, (int)len);
    }

    public static bool IsStringOrNumber(IntPtr L, int idx)
    {
        int t = lua_type(L, idx);
        return t == LUA_TSTRING || t == LUA_TNUMBER;
    }

    public static string? ToStringOrNull(IntPtr L, int idx)
    {
        if (!IsStringOrNumber(L, idx))
        {
            return null;
        }

        return Encoding.UTF8.GetString(ToBytes(L, idx));
    }

    public static bool TryGetInteger(IntPtr L, int idx, out long value)
    {
        value = lua_tointegerx(L, idx, out int ok);
        if (ok != 0)
        {
            return true;
        }

        double d = lua_tonumberx(L, idx, out ok);
        if (ok != 0 && !double.IsNaN(d) && !double.IsInfinity(d))
        {
            value = (long)Math.Floor(d);
            return true;
        }

        return false;
    }

    public static void PushBool(IntPtr L, bool b) => lua_pushboolean(L, b ? 1 : 0);

    public static void SetField(IntPtr L, int tableIdx, string key)
    {
        Span<byte> k = stackalloc byte[Encoding.UTF8.GetByteCount(key) + 1];
        Encoding.UTF8.GetBytes(key, k);
        k[^1] = 0;
        fixed (byte* kp = k)
        {
            lua_setfield(L, tableIdx, kp);
        }
    }

    public static int GetField(IntPtr L, int tableIdx, string key)
    {
        Span<byte> k = stackalloc byte[Encoding.UTF8.GetByteCount(key) + 1];
        Encoding.UTF8.GetBytes(key, k);
        k[^1] = 0;
        fixed (byte* kp = k)
        {
            return lua_getfield(L, tableIdx, kp);
        }
    }

    public static void SetGlobal(IntPtr L, string name)
    {
        Span<byte> k = stackalloc byte[Encoding.UTF8.GetByteCount(name) + 1];
        Encoding.UTF8.GetBytes(name, k);
        k[^1] = 0;
        fixed (byte* kp = k)
        {
            lua_setglobal(L, kp);
        }
    }

    public static int GetGlobal(IntPtr L, string name)
    {
        Span<byte> k = stackalloc byte[Encoding.UTF8.GetByteCount(name) + 1];
        Encoding.UTF8.GetBytes(name, k);
        k[^1] = 0;
        fixed (byte* kp = k)
        {
            return lua_getglobal(L, kp);
        }
    }

    /// <summary>Pushes the error marker and a message: the Lua-side wrapper raises it with the caller's position.</summary>
    public static int Error(IntPtr L, string message)
    {
        lua_pushlightuserdata(L, ErrorMarker);
        PushString(L, message);
        return 2;
    }

    public static int Yield(IntPtr L)
    {
        lua_pushlightuserdata(L, YieldMarker);
        return 1;
    }

    public static string TypeName(IntPtr L, int idx) => lua_type(L, idx) switch
    {
        LUA_TNONE => "no value",
        LUA_TNIL => "nil",
        LUA_TBOOLEAN => "boolean",
        LUA_TLIGHTUSERDATA => "userdata",
        LUA_TNUMBER => "number",
        LUA_TSTRING => "string",
        LUA_TTABLE => "table",
        LUA_TFUNCTION => "function",
        LUA_TUSERDATA => "userdata",
        LUA_TTHREAD => "thread",
        _ => "unknown",
    };

    /// <summary>A traceback of <paramref name="co"/> with <paramref name="message"/> on top, computed on <paramref name="L"/>.</summary>
    public static string Traceback(IntPtr L, IntPtr co, string message)
    {
        var bytes = Encoding.UTF8.GetBytes(message + "\0");
        fixed (byte* m = bytes)
        {
            luaL_traceback(L, co, m, 0);
        }

        string result = ToStringOrNull(L, -1) ?? message;
        lua_pop(L, 1);
        return result;
    }
}
