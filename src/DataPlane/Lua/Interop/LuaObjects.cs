using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Interop;

/// <summary>
/// C# objects seen from Lua. Like HAProxy's classes, a Lua object is a table whose [0] holds a
/// userdata; the userdata holds a GCHandle to the C# object and is freed by its __gc.
/// </summary>
internal static unsafe class LuaObjects
{
    /// <summary>Pushes a new table {[0] = userdata(obj)} with the class metatable (a registry reference).</summary>
    public static void PushObject(IntPtr L, object obj, int classRef, int handleMetatableRef, int extraFields = 0)
    {
        lua_createtable(L, 1, extraFields);
        PushHandle(L, obj, handleMetatableRef);
        lua_rawseti(L, -2, 0);
        lua_rawgeti(L, LUA_REGISTRYINDEX, classRef);
        lua_setmetatable(L, -2);
    }

    /// <summary>Pushes a bare userdata holding a GCHandle to obj.</summary>
    public static void PushHandle(IntPtr L, object obj, int handleMetatableRef)
    {
        var ud = (IntPtr*)lua_newuserdatauv(L, (nuint)sizeof(IntPtr), 0);
        *ud = GCHandle.ToIntPtr(GCHandle.Alloc(obj));
        lua_rawgeti(L, LUA_REGISTRYINDEX, handleMetatableRef);
        lua_setmetatable(L, -2);
    }

    /// <summary>The C# object behind a Lua object (table with [0]) or a bare handle userdata; null if none or of another type.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static T? Get<T>(IntPtr L, int idx)
        where T : class
    {
        int t = lua_type(L, idx);
        if (t == LUA_TTABLE)
        {
            lua_rawgeti(L, idx, 0);
            var obj = FromUserdata(L, -1) as T;
            lua_pop(L, 1);
            return obj;
        }

        return t == LUA_TUSERDATA ? FromUserdata(L, idx) as T : null;
    }

    private static object? FromUserdata(IntPtr L, int idx)
    {
        var p = (IntPtr*)lua_touserdata(L, idx);
        if (p == null || *p == IntPtr.Zero)
        {
            return null;
        }

        return GCHandle.FromIntPtr(*p).Target;
    }

    /// <summary>__gc of handle userdata: frees the GCHandle. Never raises.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    public static int Collect(IntPtr L)
    {
        var p = (IntPtr*)lua_touserdata(L, 1);
        if (p != null && *p != IntPtr.Zero)
        {
            GCHandle.FromIntPtr(*p).Free();
            *p = IntPtr.Zero;
        }

        return 0;
    }
}
