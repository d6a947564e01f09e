using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using HaLua.DataPlane.Lua.Interop;
using HaLua.DataPlane.Maps;
using HaLua.DataPlane.Samples;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>
/// HAProxy's Map class: <c>Map.new(file, method)</c> gives the map's index for a match method
/// (the same shared reference the configuration's converters and ACLs use), <c>lookup</c> and
/// <c>slookup</c> search it. The constants and <c>slookup</c>'s empty string are in the prelude.
/// </summary>
internal static unsafe class MapClass
{
    public static void Register(RawFunctions r)
    {
        r.Add("map_new", &New);
        r.Add("map_lookup", &Lookup);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int New(IntPtr L) => LuaCallback.Run(L, &NewImpl);

    private static int NewImpl(IntPtr L, LuaState st)
    {
        const string fn = "Map.new";
        var exec = LuaCallback.Require(st, LuaContextKind.All, fn);
        string file = LuaCallback.String(L, 1, fn);
        long m = LuaCallback.Integer(L, 2, fn);
        if (!Enum.IsDefined((MatchMethod)m) || !((MatchMethod)m).UsesPatterns())
        {
            throw new LuaArgumentException($"{fn}: bad argument #2 (not a valid match method; use Map._str, Map._beg...)");
        }

        var store = st.Engine.Samples.Patterns;
        PatternIndex index;
        try
        {
            // Reading a file is for start-up: at runtime only a map already loaded can be used.
            var reference = (exec.Kind & (LuaContextKind.Body | LuaContextKind.Init)) != 0
                ? store.Load(file, isMap: true)
                : store.Find(file) ?? throw new FormatException($"cannot load map '{file}' at runtime (load it in the body or the configuration)");
            if (!reference.IsMap)
            {
                throw new FormatException($"the file '{file}' is already used as a pattern file (one column) and cannot be used as a map (two columns)");
            }

            index = reference.GetIndex((MatchMethod)m, ignoreCase: false);
        }
        catch (FormatException ex)
        {
            throw new LuaArgumentException($"{fn}: {ex.Message}");
        }

        LuaObjects.PushHandle(L, index, st.Classes.Handle);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Lookup(IntPtr L) => LuaCallback.Run(L, &LookupImpl);

    private static int LookupImpl(IntPtr L, LuaState st)
    {
        const string fn = "Map.lookup";
        var index = LuaCallback.Self<PatternIndex>(L, 1, fn);
        Sample key;
        if (index.Method == MatchMethod.Int)
        {
            // As HAProxy: an integer map takes a number (or a string Lua converts to one).
            key = LuaStack.TryGetInteger(L, 2, out long n)
                ? Sample.FromInt(n)
                : throw new LuaArgumentException($"{fn}: bad argument #1 (number expected, got {LuaStack.TypeName(L, 2)})");
        }
        else
        {
            key = Sample.FromString(Latin1(L, 2, fn));
        }

        if (index.Match(key)?.Value is { } value)
        {
            LuaStack.PushBytes(L, Encoding.Latin1.GetBytes(value));
        }
        else
        {
            lua_pushnil(L);
        }

        return 1;
    }

    /// <summary>A Lua string as a byte string (Latin-1), as map files and HTTP samples are.</summary>
    internal static string Latin1(IntPtr L, int idx, string fn) => Encoding.Latin1.GetString(LuaCallback.Bytes(L, idx, fn));
}
