using HaLua.DataPlane.Lua;
using HaLua.DataPlane.Lua.Applets;
using HaLua.DataPlane.Lua.Classes;
using HaLua.DataPlane.Lua.Interop;

namespace HaLua.DataPlane.Cli;

/// <summary>
/// A <c>core.register_cli</c> command: its function runs in the "cli" context as a new coroutine,
/// called with an AppletTCP over the session and every word of the command (the path's included),
/// as HAProxy does. What it sends is flushed at each yield; it reads the lines that follow the
/// command. A Lua error or timeout ends the command (logged with its traceback): what was sent
/// stays, and the session goes on.
/// </summary>
internal static class CliLuaCommand
{
    public static async ValueTask RunAsync(CliSession session, LuaRegistration registration, string[] args)
    {
        var fn = registration.For(0);
        var applet = new CliApplet(session);
        var priv = new LuaPrivSlot();
        var ctx = new TcpAppletContext(applet, priv);
        await LuaRunner.RunFunctionAsync(
            fn, LuaContextKind.Cli, fn.Name, fn.State.Engine.Settings.SessionTimeout, ctx, applet, (ctx, args),
            static (thread, st, a) =>
            {
                AppletTcpClass.Push(thread, st, a.ctx);
                foreach (var word in a.args)
                {
                    LuaStack.PushString(thread, word);
                }

                return 1 + a.args.Length;
            }, session.Cancellation).ConfigureAwait(false);
        await priv.ReleaseAsync().ConfigureAwait(false);
    }
}

/// <summary>AppletTCP's I/O for a CLI command: the session's input buffer and output.</summary>
internal sealed class CliApplet(CliSession session) : ITcpAppletIo, ILuaWaitable, ILuaSliceOwner
{
    /// <summary>Output above this makes applet:send wait until it is sent.</summary>
    private const int OutputHighWater = 64 * 1024;

    private bool _flushOnly;

    public ReadOnlySpan<byte> Input => session.Input;

    public bool InputClosed => session.InputClosed;

    public void Consume(int n) => session.Consume(n);

    public void WaitForInput(LuaExecution exec)
    {
        _flushOnly = false;
        exec.Waiter = this;
    }

    public bool Send(ReadOnlySpan<byte> data, LuaExecution exec)
    {
        session.Write(data);
        if (session.PendingOutput >= OutputHighWater)
        {
            _flushOnly = true;
            exec.Waiter = this;
            return true;
        }

        return false;
    }

    /// <summary>Sends what the slice produced; a peer that left only ends the input (the script sees it on its next read).</summary>
    public async ValueTask AfterSliceAsync()
    {
        try
        {
            await session.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
        {
            session.CloseInput();
        }
    }

    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        if (_flushOnly)
        {
            return;
        }

        try
        {
            await session.ReceiveAsync(idle: false).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or ObjectDisposedException or InvalidOperationException)
        {
            session.CloseInput();
        }
    }
}
