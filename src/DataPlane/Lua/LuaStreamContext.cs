using HaLua.DataPlane.Lua.Applets;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua;

/// <summary>
/// The private data of get_priv/set_priv: one per stream, shared by every Lua object of the
/// stream (TXN of each action, AppletTCP, AppletHTTP). Released when the stream ends.
/// </summary>
internal sealed class LuaPrivSlot
{
    private LuaState? _state;
    private int _ref = LUA_NOREF;

    public LuaState? State => _state;

    /// <summary>Replaces the data with the value at idx of L (caller holds the gate).</summary>
    public void Set(LuaState st, IntPtr L, int idx)
    {
        if (_state == st)
        {
            Release();
        }
        else
        {
            // The data lives in another state, whose gate the caller does not hold: it is not
            // unreferenced there (that would race with that state's own coroutines). This happens
            // after a Lua hot reload, whose old states are closed whole once their streams end.
            _state = null;
            _ref = LUA_NOREF;
        }

        lua_pushvalue(L, idx);
        _ref = luaL_ref(L, LUA_REGISTRYINDEX);
        _state = st;
    }

    /// <summary>Pushes the data (nil when none, or when it lives in another state).</summary>
    public void Push(LuaState st, IntPtr L)
    {
        if (_state == st && _ref != LUA_NOREF)
        {
            lua_rawgeti(L, LUA_REGISTRYINDEX, _ref);
        }
        else
        {
            lua_pushnil(L);
        }
    }

    /// <summary>Frees the data; the caller holds the gate of <see cref="State"/>.</summary>
    public void Release()
    {
        if (_state is { } st && _ref != LUA_NOREF)
        {
            luaL_unref(st.L, LUA_REGISTRYINDEX, _ref);
        }

        _state = null;
        _ref = LUA_NOREF;
    }

    /// <summary>Frees the data at the end of a stream, taking the gate of the state that holds it.</summary>
    public async ValueTask ReleaseAsync()
    {
        if (_state is not { } st)
        {
            return;
        }

        await st.EnterAsync().ConfigureAwait(false);
        try
        {
            Release();
        }
        finally
        {
            st.Exit();
        }
    }
}

/// <summary>What every Lua object of one stream shares: its private data and its sample context.</summary>
internal class LuaStreamContext(LuaPrivSlot priv)
{
    public LuaPrivSlot Priv { get; } = priv;

    /// <summary>What txn.f / applet.f fetches read; null where there is no stream (e.g. a CLI command).</summary>
    public HaLua.DataPlane.Samples.ISampleContext? Samples { get; init; }
}

/// <summary>The C# object behind a Lua AppletTCP (a TCP service's, or a CLI command's).</summary>
internal sealed class TcpAppletContext(ITcpAppletIo applet, LuaPrivSlot priv) : LuaStreamContext(priv)
{
    public ITcpAppletIo Applet { get; } = applet;
}
