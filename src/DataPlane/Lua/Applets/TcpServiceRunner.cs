using System.Net.Sockets;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Lua.Classes;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Lua.Applets;

/// <summary>Runs a Lua TCP service (core.register_service(name, "tcp", f)) on a client connection.</summary>
internal static class TcpServiceRunner
{
    /// <summary>
    /// Runs the service until it returns, fails or times out (tune.lua.service-timeout), then
    /// flushes what it sent. A runtime error is logged with its traceback and ends only this stream.
    /// <paramref name="pending"/> is what the client already sent (read by earlier rules).
    /// </summary>
    public static async Task<LuaOutcome> RunAsync(
        LuaFunctionRef fn,
        HaLua.DataPlane.Io.Connection client,
        TimeSpan serviceTimeout,
        HaLua.DataPlane.Streams.IdleWatch? idle,
        CancellationToken cancellationToken,
        ISampleContext? samples = null,
        HaLua.DataPlane.Streams.ChannelBuffer? pending = null,
        LuaPrivSlot? priv = null,
        Action<long, long>? onBytes = null)
    {
        using var applet = new TcpApplet(client, idle);
        if (pending is { Total: > 0 })
        {
            applet.Prepend(pending.All.Span);
        }

        priv ??= new LuaPrivSlot();
        var ctx = new TcpAppletContext(applet, priv) { Samples = samples };
        var st = fn.State;
        LuaExecution exec;
        await st.EnterAsync().ConfigureAwait(false);
        try
        {
            exec = st.NewExecution(fn.Ref, LuaContextKind.Service, fn.Name, serviceTimeout);
            AppletTcpClass.Push(exec.Thread, st, ctx);
            exec.SetArgumentCount(1);
            exec.Owner = ctx;
        }
        finally
        {
            st.Exit();
        }

        var outcome = await LuaRunner.RunAsync(exec, applet, cancellationToken).ConfigureAwait(false);
        if (outcome is LuaOutcome.Error or LuaOutcome.Timeout or LuaOutcome.OutOfMemory)
        {
            ProcessLog.Instance.Alert(exec.ErrorMessage ?? $"Lua service '{fn.Name}' failed");
        }

        await st.EnterAsync().ConfigureAwait(false);
        try
        {
            exec.Release();
        }
        finally
        {
            st.Exit();
        }

        await priv.ReleaseAsync().ConfigureAwait(false);
        onBytes?.Invoke(applet.BytesIn, applet.BytesOut);
        return outcome;
    }
}
