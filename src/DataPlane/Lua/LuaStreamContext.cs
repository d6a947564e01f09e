using HaLua.DataPlane.Lua.Applets;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua;

/// <summary>
/// What every Lua object of one stream shares (TXN, AppletTCP, AppletHTTP): the private data of
/// get_priv/set_priv and the stream it belongs to. Released when the stream ends.
/// </summary>
internal class LuaStreamContext
{
    private LuaState? _privState;
    private int _privRef = LUA_NOREF;

    /// <summary>Replaces the private data with the value at <paramref name="idx"/> of L (caller holds the gate).</summary>
    public void SetPriv(LuaState st, IntPtr L, int idx)
    {
        ReleasePriv();
        lua_pushvalue(L, idx);
        _privRef = luaL_ref(L, LUA_REGISTRYINDEX);
        _privState = st;
    }

    /// <summary>Pushes the private data (nil when none, or when it lives in another state).</summary>
    public void PushPriv(LuaState st, IntPtr L)
    {
        if (_privState == st && _privRef != LUA_NOREF)
        {
            lua_rawgeti(L, LUA_REGISTRYINDEX, _privRef);
        }
        else
        {
            lua_pushnil(L);
        }
    }

    /// <summary>Frees the private data; the caller holds the gate of the state that stored it.</summary>
    public void ReleasePriv()
    {
        if (_privState is { } st && _privRef != LUA_NOREF)
        {
            luaL_unref(st.L, LUA_REGISTRYINDEX, _privRef);
        }

        _privState = null;
        _privRef = LUA_NOREF;
    }

    public LuaState? PrivState => _privState;
}

/// <summary>The C# object behind a Lua AppletTCP.</summary>
internal sealed class TcpAppletContext(TcpApplet applet) : LuaStreamContext
{
    public TcpApplet Applet { get; } = applet;
}
