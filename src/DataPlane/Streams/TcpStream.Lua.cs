using HaLua.DataPlane.Lua;
using HaLua.DataPlane.Runtime;
using HaLua.DataPlane.Stats;

namespace HaLua.DataPlane.Streams;

/// <summary>The Lua actions of a TCP stream and what their act.* codes do (as HAProxy 2.6).</summary>
internal sealed partial class TcpStream
{
    // The end of the running tcp-request inspect-delay (0: none): when a yielding action runs for the last time.
    private long _inspectDeadline;

    public Logging.LogTarget[] LogTargets => (_backend ?? _frontend).LogTargets;

    /// <summary>
    /// Runs a Lua action with a TXN. As in HAProxy, an error (or a timeout) is logged with its
    /// traceback, what the action changed stays, and the stream goes on to the next rule.
    /// </summary>
    private ValueTask<LuaActionReturn> RunActionAsync(TcpRule rule, LuaActionTargets phase)
    {
        var txn = Txn;
        txn.Phase = phase;
        return LuaRunner.RunActionAsync(rule.Lua!.For(_worker), txn, rule.Args, _generation.Lua.Settings.SessionTimeout, _idle!.Token);
    }

    /// <summary>
    /// act.YIELD: called again after its act.wake_time, else on the next event: more request data
    /// (within tcp-request inspect-delay) or response data. False once the inspect delay is over
    /// or the input closed: HAProxy's last call, after which a yield is refused.
    /// </summary>
    async ValueTask<bool> ILuaTxnHost.WaitToRunActionAgainAsync(long wakeTimeMs, CancellationToken cancellationToken)
    {
        if (Txn.Phase == LuaActionTargets.TcpReq)
        {
            long remaining = _inspectDeadline - Environment.TickCount64;
            if (_inspectDeadline == 0 || remaining <= 0 || Request.InputClosed || Request.IsFull)
            {
                return false;
            }

            if (wakeTimeMs >= 0)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(wakeTimeMs, remaining)), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await WaitForRequestDataAsync(_inspectDeadline).ConfigureAwait(false);
            }

            return true;
        }

        if (Response.InputClosed)
        {
            return false;
        }

        if (wakeTimeMs >= 0)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(wakeTimeMs), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await FillAsync(request: false, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>set-var / unset-var in tcp-request and tcp-response content rules (the same variables as Lua's and var()'s).</summary>
    private void SetVariable(TcpRule rule)
    {
        var (scope, name, expression) = rule.Variable!.Value;
        if (expression is null)
        {
            Variables.Unset(scope, name);
        }
        else if (expression.TryEvaluate(this, out var value))
        {
            Variables.Set(scope, name, value);
        }
    }

    /// <summary>
    /// An action returned act.DENY, act.ERROR, act.INVALID (or act.ABORT in a request): the
    /// connection closes, as HAProxy's reject, with its counters and termination flags.
    /// </summary>
    private void RefusedByLua(LuaActionReturn verdict, ProxyRuntime px, bool response)
    {
        char cause = verdict == LuaActionReturn.Error ? 'I' : 'P';
        _log?.Terminate(cause, response ? 'D' : 'R');
        if (verdict != LuaActionReturn.Deny)
        {
            return;
        }

        if (response)
        {
            if (px.Backend is { } be)
            {
                Counters.Inc(ref be.Counters.Dresp);
            }

            return;
        }

        Counters.Inc(ref _frontend.FrontendCounters.Dreq);
        if (px != _frontend && px.Backend is { } rejectingBackend)
        {
            Counters.Inc(ref rejectingBackend.Counters.Dreq);
        }
    }
}
