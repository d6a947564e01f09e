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
        var outcome = await LuaRunner.RunFunctionAsync(
            fn, LuaContextKind.Service, fn.Name, serviceTimeout, ctx, applet, ctx,
            static (thread, st, c) =>
            {
                AppletTcpClass.Push(thread, st, c);
                return 1;
            }, cancellationToken).ConfigureAwait(false);
        await priv.ReleaseAsync().ConfigureAwait(false);
        onBytes?.Invoke(applet.BytesIn, applet.BytesOut);
        return outcome;
    }
}
