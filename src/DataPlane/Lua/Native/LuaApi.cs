using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace HaLua.DataPlane.Lua.Native;

/// <summary>
/// Our own thin bindings to the Lua 5.4 C API in KeraLua's native library (liblua54).
/// Rules (DEVELOPERS.md): nothing here may be called in a way that raises a Lua error
/// (longjmp) through a managed frame: no lua_error, no luaL_check*, and lua_yieldk only
/// from the count hook, where Lua defers the jump until the hook has returned.
/// </summary>
/// <remarks>
/// <c>[SuppressGCTransition]</c> marks the calls that never allocate: they cannot run a Lua GC
/// step, so cannot call a <c>__gc</c> metamethod back into managed code, which a call without the
/// GC transition must never do.
/// </remarks>
internal static unsafe partial class LuaApi
{
    private const string Lib = "lua54";

    public const int LUA_OK = 0;
    public const int LUA_YIELD = 1;
    public const int LUA_ERRRUN = 2;
    public const int LUA_ERRSYNTAX = 3;
    public const int LUA_ERRMEM = 4;
    public const int LUA_ERRERR = 5;

    public const int LUA_TNONE = -1;
    public const int LUA_TNIL = 0;
    public const int LUA_TBOOLEAN = 1;
    public const int LUA_TLIGHTUSERDATA = 2;
    public const int LUA_TNUMBER = 3;
    public const int LUA_TSTRING = 4;
    public const int LUA_TTABLE = 5;
    public const int LUA_TFUNCTION = 6;
    public const int LUA_TUSERDATA = 7;
    public const int LUA_TTHREAD = 8;

    public const int LUA_MULTRET = -1;
    public const int LUAI_MAXSTACK = 1_000_000;
    public const int LUA_REGISTRYINDEX = -LUAI_MAXSTACK - 1000;
    public const int LUA_RIDX_MAINTHREAD = 1;
    public const int LUA_RIDX_GLOBALS = 2;
    public const int LUA_NOREF = -2;
    public const int LUA_REFNIL = -1;

    public const int LUA_MASKCOUNT = 1 << 3;

    public const int LUA_GCCOLLECT = 2;
    public const int LUA_GCCOUNT = 3;
    public const int LUA_GCCOUNTB = 4;

    // state
    [LibraryImport(Lib)] public static partial IntPtr luaL_newstate();
    [LibraryImport(Lib)] public static partial IntPtr lua_newstate(delegate* unmanaged[Cdecl]<IntPtr, IntPtr, nuint, nuint, IntPtr> f, IntPtr ud);
    [LibraryImport(Lib)] public static partial void lua_close(IntPtr L);
    [LibraryImport(Lib)] public static partial IntPtr lua_newthread(IntPtr L);
    [LibraryImport(Lib)] public static partial int lua_closethread(IntPtr L, IntPtr from);
    [LibraryImport(Lib)] public static partial void luaL_openlibs(IntPtr L);
    [LibraryImport(Lib)] public static partial int lua_resume(IntPtr L, IntPtr from, int narg, out int nres);
    [LibraryImport(Lib), SuppressGCTransition] public static partial int lua_status(IntPtr L);
    [LibraryImport(Lib), SuppressGCTransition] public static partial int lua_isyieldable(IntPtr L);
    [LibraryImport(Lib)] public static partial int lua_yieldk(IntPtr L, int nresults, IntPtr ctx, IntPtr k);
    [LibraryImport(Lib)] public static partial void lua_sethook(IntPtr L, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, void> f, int mask, int count);
    [LibraryImport(Lib)] public static partial int lua_gc(IntPtr L, int what, int arg);
    [LibraryImport(Lib)] public static partial void lua_setwarnf(IntPtr L, delegate* unmanaged[Cdecl]<IntPtr, byte*, int, void> f, IntPtr ud);

    // stack
    [LibraryImport(Lib), SuppressGCTransition] public static partial int lua_absindex(IntPtr L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial int lua_gettop(IntPtr L);
    [LibraryImport(Lib)] public static partial void lua_settop(IntPtr L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_pushvalue(IntPtr L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_rotate(IntPtr L, int idx, int n);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_copy(IntPtr L, int from, int to);
    [LibraryImport(Lib)] public static partial int lua_checkstack(IntPtr L, int n);
    [LibraryImport(Lib)] public static partial void lua_xmove(IntPtr from, IntPtr to, int n);

    // access
    [LibraryImport(Lib), SuppressGCTransition] public static partial int lua_type(IntPtr L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial int lua_isinteger(IntPtr L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial int lua_isnumber(IntPtr L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial int lua_isstring(IntPtr L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial long lua_tointegerx(IntPtr L, int idx, out int isnum);
    [LibraryImport(Lib), SuppressGCTransition] public static partial double lua_tonumberx(IntPtr L, int idx, out int isnum);
    [LibraryImport(Lib), SuppressGCTransition] public static partial int lua_toboolean(IntPtr L, int idx);
    [LibraryImport(Lib)] public static partial byte* lua_tolstring(IntPtr L, int idx, out nuint len);
    [LibraryImport(Lib), SuppressGCTransition] public static partial nuint lua_rawlen(IntPtr L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial IntPtr lua_touserdata(IntPtr L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial IntPtr lua_tothread(IntPtr L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial int lua_rawequal(IntPtr L, int a, int b);

    // push
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_pushnil(IntPtr L);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_pushnumber(IntPtr L, double n);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_pushinteger(IntPtr L, long n);
    [LibraryImport(Lib)] public static partial byte* lua_pushlstring(IntPtr L, byte* s, nuint len);
    [LibraryImport(Lib)] public static partial void lua_pushcclosure(IntPtr L, delegate* unmanaged[Cdecl]<IntPtr, int> fn, int n);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_pushboolean(IntPtr L, int b);
    [LibraryImport(Lib), SuppressGCTransition] public static partial void lua_pushlightuserdata(IntPtr L, IntPtr p);
    [LibraryImport(Lib)] public static partial int lua_pushthread(IntPtr L);

    // get/set
    [LibraryImport(Lib)] public static partial int lua_getglobal(IntPtr L, byte* name);
    [LibraryImport(Lib)] public static partial int lua_gettable(IntPtr L, int idx);
    [LibraryImport(Lib)] public static partial int lua_getfield(IntPtr L, int idx, byte* k);
    [LibraryImport(Lib)] public static partial int lua_rawget(IntPtr L, int idx);
    [LibraryImport(Lib), SuppressGCTransition] public static partial int lua_rawgeti(IntPtr L, int idx, long n);
    [LibraryImport(Lib)] public static partial void lua_createtable(IntPtr L, int narr, int nrec);
    [LibraryImport(Lib)] public static partial IntPtr lua_newuserdatauv(IntPtr L, nuint sz, int nuvalue);
    [LibraryImport(Lib)] public static partial int lua_getmetatable(IntPtr L, int idx);
    [LibraryImport(Lib)] public static partial void lua_setglobal(IntPtr L, byte* name);
    [LibraryImport(Lib)] public static partial void lua_settable(IntPtr L, int idx);
    [LibraryImport(Lib)] public static partial void lua_setfield(IntPtr L, int idx, byte* k);
    [LibraryImport(Lib)] public static partial void lua_rawset(IntPtr L, int idx);
    [LibraryImport(Lib)] public static partial void lua_rawseti(IntPtr L, int idx, long n);
    [LibraryImport(Lib)] public static partial int lua_setmetatable(IntPtr L, int idx);
    [LibraryImport(Lib)] public static partial int lua_next(IntPtr L, int idx);

    // calls
    [LibraryImport(Lib)] public static partial int lua_pcallk(IntPtr L, int nargs, int nresults, int errfunc, IntPtr ctx, IntPtr k);

    // auxlib
    [LibraryImport(Lib)] public static partial int luaL_loadbufferx(IntPtr L, byte* buff, nuint sz, byte* name, byte* mode);
    [LibraryImport(Lib)] public static partial int luaL_ref(IntPtr L, int t);
    [LibraryImport(Lib)] public static partial void luaL_unref(IntPtr L, int t, int r);
    [LibraryImport(Lib)] public static partial void luaL_traceback(IntPtr L, IntPtr L1, byte* msg, int level);

    // ---- macros ----
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void lua_pop(IntPtr L, int n) => lua_settop(L, -n - 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void lua_newtable(IntPtr L) => lua_createtable(L, 0, 0);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void lua_insert(IntPtr L, int idx) => lua_rotate(L, idx, 1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void lua_remove(IntPtr L, int idx)
    {
        lua_rotate(L, idx, -1);
        lua_pop(L, 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int lua_pcall(IntPtr L, int nargs, int nresults, int errfunc) => lua_pcallk(L, nargs, nresults, errfunc, IntPtr.Zero, IntPtr.Zero);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool lua_isnoneornil(IntPtr L, int idx) => lua_type(L, idx) <= 0;

    /// <summary>LUA_EXTRASPACE: a pointer-sized area before every lua_State, copied to new threads.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static IntPtr* lua_getextraspace(IntPtr L) => (IntPtr*)(L - IntPtr.Size);

    public static void lua_yield(IntPtr L, int n) => lua_yieldk(L, n, IntPtr.Zero, IntPtr.Zero);
}
