using HaLua.DataPlane.Lua.Classes;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Lua.Applets;

/// <summary>Runs a Lua HTTP service (core.register_service(name, "http", f)) for one request.</summary>
internal static class HttpServiceRunner
{
    /// <summary>
    /// Runs the service until it returns, fails or times out (tune.lua.service-timeout). A failure
    /// before start_response answers 500 (HAProxy); after it, what was sent stays and the
    /// connection closes. True when the client connection can serve another request. The private
    /// data (<paramref name="priv"/>) is the transaction's, shared with its Lua actions; the stream releases it.
    /// </summary>
    public static async Task<bool> RunAsync(
        LuaFunctionRef fn,
        HttpApplet applet,
        AppletHttpClass.RequestInfo request,
        TimeSpan serviceTimeout,
        CancellationToken cancellationToken,
        ISampleContext? samples,
        LuaPrivSlot priv)
    {
        var ctx = new HttpAppletContext(applet, priv) { Samples = samples };
        var outcome = await LuaRunner.RunFunctionAsync(
            fn, LuaContextKind.Service, fn.Name, serviceTimeout, ctx, applet, (ctx, request),
            static (thread, st, a) =>
            {
                AppletHttpClass.Push(thread, st, a.ctx, a.request);
                return 1;
            }, cancellationToken).ConfigureAwait(false);
        bool failed = outcome is LuaOutcome.Error or LuaOutcome.Timeout or LuaOutcome.OutOfMemory;

        await applet.FinishAsync(failed).ConfigureAwait(false);
        return !failed && applet.KeepAlive;
    }
}
