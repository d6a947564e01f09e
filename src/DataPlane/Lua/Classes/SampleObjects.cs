using HaLua.DataPlane.Lua.Interop;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>The f / sf / c / sc attributes of TXN and applets: Fetches and Converters objects over the same stream.</summary>
internal static class SampleObjects
{
    /// <summary>Adds f, sf, c, sc to the object table at the top of the stack.</summary>
    public static void AddSampleFields(IntPtr L, LuaState st)
    {
        Add(L, st.Classes.Fetches, "f");
        Add(L, st.Classes.SFetches, "sf");
        Add(L, st.Classes.Converters, "c");
        Add(L, st.Classes.SConverters, "sc");
    }

    private static void Add(IntPtr L, int classRef, string field)
    {
        lua_createtable(L, 1, 0);
        lua_rawgeti(L, -2, 0);
        lua_rawseti(L, -2, 0);
        lua_rawgeti(L, LUA_REGISTRYINDEX, classRef);
        lua_setmetatable(L, -2);
        LuaStack.SetField(L, -2, field);
    }
}
