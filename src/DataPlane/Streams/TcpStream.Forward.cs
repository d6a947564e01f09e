using System.Net.Sockets;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Lua;
using HaLua.DataPlane.Lua.Classes;
using HaLua.DataPlane.Lua.Interop;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Runtime;
using HaLua.DataPlane.Stats;

namespace HaLua.DataPlane.Streams;

/// <summary>The server side of a TCP stream, and Lua actions.</summary>
internal sealed partial class TcpStream
{
    private async Task ConnectAndForwardAsync(ProxyRuntime bePx, BackendState be)
    {
        var token = _idle!.Token;
        int retries = bePx.Config.Retries;
        ServerState? previous = null;
        try
        {
            for (int attempt = 0; ; attempt++)
            {
                // HAProxy's default redispatch interval: redispatch on the last retry.
                bool redispatch = bePx.Config.Redispatch && attempt > 0 && attempt == retries;
                if (_server is null || redispatch)
                {
                    previous = _server;
                    if (previous is not null)
                    {
                        ReleaseServer(be, previous);
                    }

                    var srv = await be.AcquireAsync(Source?.Address, redispatch ? previous : null, bePx.QueueTimeout, token).ConfigureAwait(false);
                    if (srv is null)
                    {
                        // No server usable, or the queue timed out.
                        _log?.Terminate(be.UsableServers > 0 ? 's' : 'S', be.UsableServers > 0 ? 'Q' : 'C');
                        return;
                    }

                    _log?.Queued(srv);
                    if (redispatch && previous is not null && srv != previous)
                    {
                        Counters.Inc(ref be.Counters.Wredis);
                        Counters.Inc(ref srv.Counters.Wredis);
                    }

                    _server = srv;
                    srv.Counters.SessionStarted();
                    srv.Streams.Add(_idle);
                }

                if (await TryConnectAsync(_server, bePx.ConnectTimeout, token).ConfigureAwait(false))
                {
                    _log?.Connected(_serverSocket!.Local);
                    break;
                }

                if (attempt >= retries)
                {
                    _log?.Terminate('S', 'C');
                    Counters.Inc(ref _server.Counters.Econ);
                    Counters.Inc(ref be.Counters.Econ);
                    return;
                }

                Counters.Inc(ref _server.Counters.Wretr);
                Counters.Inc(ref be.Counters.Wretr);
                _log?.Retried(bePx.Config.Redispatch && attempt + 1 == retries);

                // HAProxy's turn-around timer before a retry: min(timeout connect, 1s).
                var pause = bePx.ConnectTimeout > TimeSpan.Zero && bePx.ConnectTimeout < TimeSpan.FromSeconds(1) ? bePx.ConnectTimeout : TimeSpan.FromSeconds(1);
                await Task.Delay(pause, token).ConfigureAwait(false);
            }

            var server = _server!;
            var ss = _serverSocket!;
            if (bePx.TunnelTimeout is { } tunnel)
            {
                // HAProxy: the tunnel timeout supersedes both once the connection is a tunnel, and
                // expires only when neither side has moved for that long.
                _idle.SetTunnel(tunnel);
            }
            else
            {
                _idle.SetTimeouts(_frontend.ClientTimeout, bePx.ServerTimeout);
            }
            _idle.ServerActivity();

            // What the rules left in the request channel goes first.
            if (Request.Total > 0)
            {
                int n = Request.Total;
                await ss.SendAsync(Request.All, token).ConfigureAwait(false);
                CountUp(be, server, n);
                Request.Clear();
            }

            Func<Task<bool>>? responseRules = bePx.TcpResponseRules.Count > 0 ? () => RunResponseRulesAsync(bePx, be, server, token) : null;
            var result = await TcpTunnel.RunAsync(_client, ss, _idle, n => CountReceived(be, server, n), n => CountDown(be, server, n), responseRules).ConfigureAwait(false);
            _abort = (result.ClientAborted || result.ServerAborted) && !_idle.Killed;
            _log?.TunnelEnded(result.ClientAborted, result.ServerAborted, _idle.ExpiredSide, _stopping.IsCancellationRequested || _idle.Killed);
            if (_idle.Killed)
            {
                // shut_sess / shutdown sessions: neither side aborted.
            }
            else if (result.ClientAborted && _idle.ExpiredSide != 's')
            {
                Counters.Inc(ref _frontend.FrontendCounters.CliAbrt);
                Counters.Inc(ref server.Counters.CliAbrt);
                Counters.Inc(ref be.Counters.CliAbrt);
            }
            else if (result.ServerAborted)
            {
                // HAProxy counts a server abort as a response error too.
                Counters.Inc(ref server.Counters.SrvAbrt);
                Counters.Inc(ref be.Counters.SrvAbrt);
                Counters.Inc(ref server.Counters.Eresp);
                Counters.Inc(ref be.Counters.Eresp);
            }
        }
        finally
        {
            if (_server is { } s)
            {
                ReleaseServer(be, s);
            }
        }
    }

    /// <summary>
    /// tcp-response content rules, on the server's first data while the client's data already
    /// flows to the server; false when the stream must end (reject, txn:done()).
    /// </summary>
    private async Task<bool> RunResponseRulesAsync(ProxyRuntime bePx, BackendState be, ServerState server, CancellationToken token)
    {
        await FillAsync(request: false, token).ConfigureAwait(false);
        Variables.BeginResponse();
        foreach (var rule in bePx.TcpResponseRules)
        {
            if (rule.Condition is { } c && !c.Evaluate(this))
            {
                continue;
            }

            if (rule.Kind == TcpRuleKind.Accept)
            {
                break;
            }

            if (rule.Kind == TcpRuleKind.Reject)
            {
                _log?.Terminate('P', 'D');
                Counters.Inc(ref be.Counters.Dresp);
                return false;
            }

            if (rule.Kind == TcpRuleKind.SetLogLevel)
            {
                SetLogLevel(rule.Level);
                continue;
            }

            if (rule.Kind is TcpRuleKind.SetVar or TcpRuleKind.UnsetVar)
            {
                SetVariable(rule);
                continue;
            }

            var verdict = await RunActionAsync(rule, LuaActionTargets.TcpRes).ConfigureAwait(false);
            if (_terminated)
            {
                // txn:done(): what the action left for the client still goes, then the stream ends.
                break;
            }

            if (verdict is LuaActionReturn.Stop or LuaActionReturn.Done or LuaActionReturn.Abort)
            {
                // HAProxy 2.6 forwards the response after a bare act.ABORT too.
                break;
            }

            if (verdict != LuaActionReturn.Continue)
            {
                RefusedByLua(verdict, bePx, response: true);
                return false;
            }
        }

        if (Response.Total > 0)
        {
            int n = Response.Total;
            await _client.SendAsync(Response.All, token).ConfigureAwait(false);
            CountDown(be, server, n);
            Response.Clear();
        }

        return !_terminated;
    }

    private void ReleaseServer(BackendState be, ServerState s)
    {
        s.Streams.Remove(_idle!);
        s.Counters.SessionEnded();
        be.Release(s);
    }

    private void CountUp(BackendState be, ServerState s, long n)
    {
        Counters.Add(ref _frontend.FrontendCounters.Bin, n);
        if (_listenerCounters is { } lc)
        {
            Counters.Add(ref lc.Bin, n);
        }

        Counters.Add(ref be.Counters.Bin, n);
        Counters.Add(ref s.Counters.Bin, n);
    }

    /// <summary>Client bytes the tunnel forwarded: counted up, and received for the log.</summary>
    private void CountReceived(BackendState be, ServerState s, long n)
    {
        _log?.Received(n);
        CountUp(be, s, n);
    }

    private void CountDown(BackendState be, ServerState s, long n)
    {
        _log?.Sent(n);
        Counters.Add(ref _frontend.FrontendCounters.Bout, n);
        if (_listenerCounters is { } lc)
        {
            Counters.Add(ref lc.Bout, n);
        }

        Counters.Add(ref be.Counters.Bout, n);
        Counters.Add(ref s.Counters.Bout, n);
    }

    private async Task<bool> TryConnectAsync(ServerState server, TimeSpan timeout, CancellationToken token)
    {
        if (_serverSocket is { } old)
        {
            old.Close(abort: true);
            _serverSocket = null;
        }

        var ep = server.Address;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(token);
        if (timeout > TimeSpan.Zero)
        {
            cts.CancelAfter(timeout);
        }

        try
        {
            _serverSocket = await HaLua.DataPlane.Io.Connection.ConnectAsync(ep, _worker, cts.Token).ConfigureAwait(false);
            Counters.Inc(ref server.Counters.Connect);
            Counters.Inc(ref server.Backend.Counters.Connect);
            return true;
        }
        catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !token.IsCancellationRequested))
        {
            return false;
        }
    }
}
