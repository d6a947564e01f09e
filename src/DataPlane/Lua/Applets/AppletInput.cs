using HaLua.DataPlane.Lua.Interop;

namespace HaLua.DataPlane.Lua.Applets;

/// <summary>What an applet reads from: the bytes that have arrived, and whether more can come.</summary>
internal interface IAppletInput
{
    ReadOnlySpan<byte> Input { get; }

    bool InputClosed { get; }

    void Consume(int n);

    /// <summary>Registers "wait for more input" as what the execution waits for.</summary>
    void WaitForInput(LuaExecution exec);
}

/// <summary>What AppletTCP's functions work on: a TCP service's client connection, or a runtime CLI session (core.register_cli).</summary>
internal interface ITcpAppletIo : IAppletInput
{
    /// <summary>Appends to the output; true when the script should wait for the peer to drain it.</summary>
    bool Send(ReadOnlySpan<byte> data, LuaExecution exec);
}

/// <summary>getline and receive, the same for AppletTCP and AppletHTTP: a result, or a yield until more input.</summary>
internal static class AppletInput
{
    /// <summary>One line with its '\n'; at the end of the input, what is left (empty when nothing).</summary>
    public static int Getline(IntPtr L, LuaExecution exec, IAppletInput applet)
    {
        var input = applet.Input;
        int nl = input.IndexOf((byte)'\n');
        if (nl >= 0 || applet.InputClosed)
        {
            return Take(L, applet, input, nl >= 0 ? nl + 1 : input.Length);
        }

        applet.WaitForInput(exec);
        return LuaStack.Yield(L);
    }

    /// <summary><paramref name="size"/> bytes (all of the input when negative); at the end of the input, what is left.</summary>
    public static int Receive(IntPtr L, LuaExecution exec, IAppletInput applet, long size)
    {
        var input = applet.Input;
        if ((size >= 0 && input.Length >= size) || applet.InputClosed)
        {
            return Take(L, applet, input, size >= 0 ? (int)Math.Min(size, input.Length) : input.Length);
        }

        applet.WaitForInput(exec);
        return LuaStack.Yield(L);
    }

    private static int Take(IntPtr L, IAppletInput applet, ReadOnlySpan<byte> input, int n)
    {
        LuaStack.PushBytes(L, input[..n]);
        applet.Consume(n);
        return 1;
    }
}
