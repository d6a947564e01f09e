using HaLua.DataPlane.Http;
using HaLua.DataPlane.Lua;

namespace HaLua.DataPlane.Streams;

/// <summary>
/// What the Lua actions of an HTTP stream decide: txn:done (with a reply or none), and the act.*
/// codes an action returns, each handled as HAProxy 2.6 handles it.
/// </summary>
internal sealed partial class HttpStream
{
    /// <summary>How a response's rules ended.</summary>
    private enum ResponseVerdict
    {
        /// <summary>The response goes to the client.</summary>
        Forward,

        /// <summary>An error page was sent, or txn:done closed the connection.</summary>
        Closed,

        /// <summary>A Lua reply replaced it; the connection may serve the next request.</summary>
        Answered,
    }

    public Logging.LogTarget[] LogTargets => (_backend ?? _frontend).LogTargets;

    /// <summary>
    /// Runs a Lua http-req or http-res action with a TXN whose <c>http</c> edits this stream's
    /// heads. As in HAProxy, an error is logged with its traceback, what the action changed stays,
    /// and the rules go on.
    /// </summary>
    private ValueTask<LuaActionReturn> RunLuaActionAsync(HttpRule rule, LuaActionTargets phase)
    {
        var txn = Txn;
        txn.Phase = phase;
        return LuaRunner.RunActionAsync(rule.Lua!.For(_worker), txn, rule.Args, _generation.Lua.Settings.SessionTimeout, _idle!.Token);
    }

    /// <summary>
    /// act.YIELD: called again after its act.wake_time. Without one HAProxy waits for the stream's
    /// next event, and a rule set has none coming: the stream's timeout ends the wait.
    /// </summary>
    async ValueTask<bool> ILuaTxnHost.WaitToRunActionAgainAsync(long wakeTimeMs, CancellationToken cancellationToken)
    {
        await Task.Delay(wakeTimeMs >= 0 ? TimeSpan.FromMilliseconds(wakeTimeMs) : Timeout.InfiniteTimeSpan, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// An http-request action answered or refused the request: txn:done's reply (the connection
    /// may go on) or no response at all; act.DENY 403, act.INVALID 400, act.ERROR (or a reply that
    /// cannot be sent) 500, a bare act.ABORT 503 (what HAProxy 2.6 answers). Whether to keep the connection.
    /// </summary>
    private async ValueTask<bool> AnswerLuaRequestAsync(LuaActionReturn verdict, HttpBuffer req)
    {
        if (_terminated)
        {
            if (Txn.Reply is not { } reply)
            {
                // txn:done() without a reply: the connection closes with no response (HAProxy).
                return false;
            }

            _log?.Answered(Txn.ReplyStatus, 'L');
            return await AnswerAsync(Txn.ReplyStatus, reply, req).ConfigureAwait(false);
        }

        int status = LuaErrorStatus(verdict, response: false);
        if (verdict == LuaActionReturn.Deny)
        {
            Stats.Counters.Inc(ref _frontend.FrontendCounters.Dreq);
        }
        else if (verdict == LuaActionReturn.Invalid)
        {
            Stats.Counters.Inc(ref _frontend.FrontendCounters.Ereq);
        }

        _log?.Answered(status, verdict == LuaActionReturn.Error ? 'I' : 'P');
        await AnswerAsync(status, ErrorPage(status)).ConfigureAwait(false);
        return false;
    }

    /// <summary>
    /// An http-response action replaced or refused the response: txn:done's reply, or nothing
    /// (the connection closes); act.ERROR 500, act.DENY and act.INVALID 502.
    /// </summary>
    private async ValueTask<ResponseVerdict> AnswerLuaResponseAsync(LuaActionReturn verdict)
    {
        if (_terminated && Txn.Reply is not { } reply)
        {
            return ResponseVerdict.Closed;
        }

        int status = _terminated ? Txn.ReplyStatus : LuaErrorStatus(verdict, response: true);
        ReadOnlyMemory<byte> page = _terminated ? Txn.Reply : ErrorPage(status);
        if (verdict == LuaActionReturn.Deny && _backend?.Backend is { } be)
        {
            Stats.Counters.Inc(ref be.Counters.Dresp);
        }

        _log?.Answered(status, _terminated ? 'L' : verdict == LuaActionReturn.Error ? 'I' : 'P');
        try
        {
            await _client.SendAsync(page, _idle!.Token).ConfigureAwait(false);
            CountOut(page.Length);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ObjectDisposedException)
        {
            return ResponseVerdict.Closed;
        }

        return _terminated ? ResponseVerdict.Answered : ResponseVerdict.Closed;
    }

    /// <summary>HAProxy 2.6's answer to an act.* code (http-response deny answers 502, as the config's).</summary>
    private static int LuaErrorStatus(LuaActionReturn verdict, bool response) => verdict switch
    {
        LuaActionReturn.Deny => response ? 502 : 403,
        LuaActionReturn.Invalid => response ? 502 : 400,
        LuaActionReturn.Abort => 503,
        _ => 500,
    };
}
