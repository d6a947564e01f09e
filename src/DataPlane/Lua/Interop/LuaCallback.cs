using System.Runtime.CompilerServices;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua.Interop;

/// <summary>
/// Runs the body of a C# function called from Lua: counts the callback (so allocations cannot fail
/// and longjmp), catches every exception and turns it into an error marker that the Lua wrapper raises.
/// </summary>
internal static unsafe class LuaCallback
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Run(IntPtr L, delegate*<IntPtr, LuaState, int> body)
    {
        LuaState state;
        try
        {
            state = LuaState.FromLua(L);
        }
        catch (Exception ex)
        {
            return LuaStack.Error(L, ex.Message);
        }

        state.EnterCallback();
        try
        {
            return body(L, state);
        }
        catch (LuaArgumentException ex)
        {
            return LuaStack.Error(L, ex.Message);
        }
        catch (Exception ex)
        {
            return LuaStack.Error(L, "internal error: " + ex.GetType().Name + ": " + ex.Message);
        }
        finally
        {
            state.ExitCallback();
        }
    }

    /// <summary>The running execution, checked against the contexts where the function is allowed.</summary>
    public static LuaExecution Require(LuaState state, LuaContextKind allowed, string function)
    {
        var exec = state.Current ?? throw new LuaArgumentException($"{function}: no Lua execution is running");
        if ((exec.Kind & allowed) == 0)
        {
            throw new LuaArgumentException($"{function}: not available in the {ContextName(exec.Kind)} context");
        }

        return exec;
    }

    public static string ContextName(LuaContextKind kind) => kind switch
    {
        LuaContextKind.Body => "body",
        LuaContextKind.Init => "init",
        LuaContextKind.Task => "task",
        LuaContextKind.Action => "action",
        LuaContextKind.Fetch => "sample-fetch",
        LuaContextKind.Converter => "converter",
        LuaContextKind.Service => "service",
        LuaContextKind.Cli => "cli",
        _ => kind.ToString(),
    };

    public static T Self<T>(IntPtr L, int idx, string function)
        where T : class
        => LuaObjects.Get<T>(L, idx) ?? throw new LuaArgumentException($"{function}: bad argument #{idx} (expected {typeof(T).Name.Replace("Lua", "", StringComparison.Ordinal)} object, got {LuaStack.TypeName(L, idx)})");

    public static long Integer(IntPtr L, int idx, string function)
    {
        if (LuaStack.TryGetInteger(L, idx, out long v))
        {
            return v;
        }

        throw new LuaArgumentException($"{function}: bad argument #{idx} (number expected, got {LuaStack.TypeName(L, idx)})");
    }

    public static long OptInteger(IntPtr L, int idx, string function, long @default)
        => lua_isnoneornil(L, idx) ? @default : Integer(L, idx, function);

    public static ReadOnlySpan<byte> Bytes(IntPtr L, int idx, string function)
    {
        if (!LuaStack.IsStringOrNumber(L, idx))
        {
            throw new LuaArgumentException($"{function}: bad argument #{idx} (string expected, got {LuaStack.TypeName(L, idx)})");
        }

        return LuaStack.ToBytes(L, idx);
    }

    public static string String(IntPtr L, int idx, string function)
        => LuaStack.ToStringOrNull(L, idx) ?? throw new LuaArgumentException($"{function}: bad argument #{idx} (string expected, got {LuaStack.TypeName(L, idx)})");
}

/// <summary>A Lua-visible argument or usage error: raised by the Lua-side wrapper, never by C#.</summary>
internal sealed class LuaArgumentException(string message) : Exception(message);
