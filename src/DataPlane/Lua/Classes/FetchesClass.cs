using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using HaLua.DataPlane.Lua.Interop;
using HaLua.DataPlane.Samples;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Classes;

/// <summary>
/// HAProxy's Fetches and Converters classes: one Lua method per registry entry (the prelude makes
/// them), calling here with the entry's index. f/c return typed values or nil; sf/sc wrap them into strings.
/// </summary>
internal static unsafe class FetchesClass
{
    public static void Register(RawFunctions r)
    {
        r.Add("fetch", &Fetch);
        r.Add("convert", &Convert);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Fetch(IntPtr L) => LuaCallback.Run(L, &FetchImpl);

    private static int FetchImpl(IntPtr L, LuaState st)
    {
        var ctx = LuaCallback.Self<LuaStreamContext>(L, 1, "Fetches");
        int id = (int)LuaCallback.Integer(L, 2, "Fetches");
        var names = st.Engine.FetchNames;
        if ((uint)(id - 1) >= (uint)names.Count || st.Engine.Samples.FindFetch(names[id - 1]) is not { } fetch)
        {
            throw new LuaArgumentException("Fetches: unknown fetch");
        }

        var args = Args(L, 3, fetch.Name, fetch.MinArgs, fetch.MaxArgs);
        if (ctx.Samples is { } sc && fetch.Fetch(sc, args, out var value))
        {
            return Push(L, value);
        }

        lua_pushnil(L);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Convert(IntPtr L) => LuaCallback.Run(L, &ConvertImpl);

    private static int ConvertImpl(IntPtr L, LuaState st)
    {
        var ctx = LuaCallback.Self<LuaStreamContext>(L, 1, "Converters");
        int id = (int)LuaCallback.Integer(L, 2, "Converters");
        var names = st.Engine.ConverterNames;
        if ((uint)(id - 1) >= (uint)names.Count || st.Engine.Samples.FindConverter(names[id - 1]) is not { } conv)
        {
            throw new LuaArgumentException("Converters: unknown converter");
        }

        Sample input = lua_type(L, 3) switch
        {
            LUA_TNUMBER when lua_isinteger(L, 3) != 0 => Sample.FromInt(lua_tointegerx(L, 3, out _)),
            LUA_TBOOLEAN => Sample.FromBool(lua_toboolean(L, 3) != 0),
            _ when LuaStack.IsStringOrNumber(L, 3) => Sample.FromString(LuaStack.ToStringOrNull(L, 3)!),
            _ => throw new LuaArgumentException($"{conv.Name}: bad argument #1 (string expected, got {LuaStack.TypeName(L, 3)})"),
        };
        var args = Args(L, 4, conv.Name, conv.MinArgs, conv.MaxArgs);
        if (ctx.Samples is { } sc && conv.Convert(sc, ref input, args))
        {
            return Push(L, input);
        }

        lua_pushnil(L);
        return 1;
    }

    private static string[] Args(IntPtr L, int first, string name, int min, int max)
    {
        int top = lua_gettop(L);
        int n = Math.Max(0, top - first + 1);
        if (n < min || n > max)
        {
            throw new LuaArgumentException(min == max ? $"'{name}' expects {min} argument(s), got {n}" : $"'{name}' expects {min} to {max} arguments, got {n}");
        }

        var args = new string[n];
        for (int i = 0; i < n; i++)
        {
            args[i] = LuaStack.ToStringOrNull(L, first + i) ?? throw new LuaArgumentException($"'{name}': bad argument #{i + 1} (string expected, got {LuaStack.TypeName(L, first + i)})");
        }

        return args;
    }

    /// <summary>
    /// HAProxy's Lua-to-sample cast: numbers become integers (a float that is not an integral
    /// value gives 0, as lua_tointeger), booleans booleans, strings strings; anything else is no sample.
    /// </summary>
    public static bool TryToSample(IntPtr L, int idx, out Sample value)
    {
        switch (lua_type(L, idx))
        {
            case LUA_TNUMBER:
                value = Sample.FromInt(lua_tointegerx(L, idx, out _));
                return true;
            case LUA_TBOOLEAN:
                value = Sample.FromBool(lua_toboolean(L, idx) != 0);
                return true;
            case LUA_TSTRING:
                value = Sample.FromString(LuaStack.ToStringOrNull(L, idx)!);
                return true;
            default:
                value = default;
                return false;
        }
    }

    /// <summary>HAProxy's sample-to-Lua cast: integers and booleans become Lua integers (a boolean 1 or 0), the rest strings.</summary>
    public static int Push(IntPtr L, Sample v)
    {
        switch (v.Type)
        {
            case SampleType.Bool:
            case SampleType.Int:
                lua_pushinteger(L, v.Int);
                break;
            default:
                LuaStack.PushString(L, v.AsString);
                break;
        }

        return 1;
    }
}
