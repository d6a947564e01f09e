using System.Net;
using System.Net.Sockets;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Io;
using HaLua.DataPlane.Listeners;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Lua;
using HaLua.DataPlane.Lua.Applets;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Runtime;
using HaLua.DataPlane.Samples;
using HaLua.DataPlane.Stats;

namespace HaLua.DataPlane.Streams;

/// <summary>
/// One TCP-mode stream: tcp-request content rules (accept, reject, Lua actions, a Lua service),
/// backend choice, server connection with retries and redispatch, tcp-response content rules,
/// then the tunnel. It is also the sample context and the Lua TXN host of its rules.
/// </summary>
internal sealed partial class TcpStream : ISampleContext, ILuaTxnHost
{
    private readonly Connection _client;
    private readonly ProxyRuntime _frontend;
    private readonly Counters? _listenerCounters;
    private readonly Generation _generation;
    private readonly int _worker;
    private readonly CancellationToken _stopping;
    private ProxyRuntime? _backend;
    private ServerState? _server;
    private Connection? _serverSocket;
    private bool _terminated;
    private IdleWatch? _idle;
    private readonly LuaPrivSlot _priv = new();
    private TxnContext? _txn;
    private bool _abort;
    private bool _contentFinal = true;

    public TcpStream(Connection client, ProxyRuntime frontend, Generation generation, int worker, CancellationToken stopping, Counters? listenerCounters = null)
    {
        _listenerCounters = listenerCounters;
        _client = client;
        _frontend = frontend;
        _generation = generation;
        _worker = worker;
        _stopping = stopping;
        Source = client.Remote;
        Destination = client.Local;
    }

    public Variables Variables { get; } = new();

    public bool ContentFinal => _contentFinal;

    public int Worker => _worker;

    public ChannelBuffer Request { get; } = new();

    public ChannelBuffer Response { get; } = new();

    public IPEndPoint? Source { get; }

    public IPEndPoint? Destination { get; }

    public string FrontendName => _frontend.Name;

    public string? BackendName => _backend?.Name;

    public string? ServerName => _server?.Name;

    public ReadOnlySpan<byte> RequestContent => Request.Input;

    public int UsableServers(string backend) => _generation.UsableServers(backend);

    public bool IsHttp => false;

    public Socket ClientSocket => _client.Socket;

    public string ProxyName => _frontend.Name;

    public int LogLevel { get; set; } = -1;

    public void Terminate() => _terminated = true;

    public TxnContext Txn => _txn ??= new TxnContext(this, _priv) { Samples = this };

    public async Task RunAsync()
    {
        var fe = _frontend.FrontendCounters;
        fe.SessionStarted();
        _listenerCounters?.SessionStarted();
        Interlocked.Increment(ref ProcessCounters.CumulatedRequests);
        using var idle = IdleTimeouts.Shared.Watch(_frontend.ClientTimeout, TimeSpan.Zero, _stopping);
        _idle = idle;
        _log = StreamLog.Open(_frontend, this, http: false);
        try
        {
            if (!await RunRequestRulesAsync(_frontend).ConfigureAwait(false) || _terminated)
            {
                return;
            }

            _backend = ChooseBackend();
            if (_backend?.Backend is not { } be)
            {
                return;
            }

            // A backend's own tcp-request content rules run once the stream reaches it (HAProxy).
            if (_backend != _frontend && _backend.TcpRequestRules.Count > 0
                && (!await RunRequestRulesAsync(_backend).ConfigureAwait(false) || _terminated))
            {
                return;
            }

            be.Counters.SessionStarted();
            try
            {
                await ConnectAndForwardAsync(_backend, be).ConfigureAwait(false);
            }
            finally
            {
                be.Counters.SessionEnded();
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // the client or the server went away, or a timeout expired
            _abort = true;
            _log?.Failed(ex, _stopping.IsCancellationRequested || idle.Killed, idle.ExpiredSide);
        }
        catch (Exception ex)
        {
            _abort = true;
            _log?.Failed(ex, _stopping.IsCancellationRequested || idle.Killed, idle.ExpiredSide);
            ProcessLog.Instance.Alert($"stream on '{_frontend.Name}' failed: {ex}");
        }
        finally
        {
            LogEnd();
            fe.SessionEnded();
            _listenerCounters?.SessionEnded();
            _abort |= idle.Token.IsCancellationRequested && !idle.Killed;
            _client.Close(_abort);
            _serverSocket?.Close(_abort);

            await _priv.ReleaseAsync().ConfigureAwait(false);
            if (_txn is { } txn)
            {
                await txn.Table.ReleaseAsync().ConfigureAwait(false);
            }

            Request.Dispose();
            Response.Dispose();
        }
    }

    /// <summary>
    /// A proxy's tcp-request content rules; false when the stream must end here (reject, service,
    /// error). As in HAProxy, during <c>tcp-request inspect-delay</c> a condition on request contents
    /// that cannot be decided yet waits for more data (or the delay, or a full buffer, or the
    /// client's end of stream) and is evaluated again; without a delay rules see what is there.
    /// </summary>
    private async Task<bool> RunRequestRulesAsync(ProxyRuntime px)
    {
        var delay = px.Config.InspectDelay;
        long deadline = delay > TimeSpan.Zero ? Environment.TickCount64 + (long)delay.TotalMilliseconds : 0;
        try
        {
            return await RunRequestRulesAsync(px, deadline).ConfigureAwait(false);
        }
        finally
        {
            _contentFinal = true;
        }
    }

    private async Task<bool> RunRequestRulesAsync(ProxyRuntime px, long deadline)
    {
        _inspectDeadline = deadline;
        foreach (var rule in px.TcpRequestRules)
        {
            if (rule.Condition is { } c)
            {
                AclResult r;
                while (true)
                {
                    _contentFinal = deadline == 0 || Request.InputClosed || Request.IsFull || Environment.TickCount64 >= deadline;
                    r = c.EvaluateTri(this);
                    if (r != AclResult.Miss)
                    {
                        break;
                    }

                    await WaitForRequestDataAsync(deadline).ConfigureAwait(false);
                }

                if (r != AclResult.Pass)
                {
                    continue;
                }
            }

            switch (rule.Kind)
            {
                case TcpRuleKind.Accept:
                    return true;
                case TcpRuleKind.Reject:
                    _log?.Terminate('P', 'R');
                    Counters.Inc(ref _frontend.FrontendCounters.Dreq);
                    if (px != _frontend && px.Backend is { } rejectingBackend)
                    {
                        Counters.Inc(ref rejectingBackend.Counters.Dreq);
                    }

                    return false;
                case TcpRuleKind.UseService:
                    _log?.Service(rule.Lua!.Name);
                    await RunServiceAsync(rule.Lua!).ConfigureAwait(false);
                    return false;
                case TcpRuleKind.SetLogLevel:
                    SetLogLevel(rule.Level);
                    break;
                case TcpRuleKind.SetVar or TcpRuleKind.UnsetVar:
                    SetVariable(rule);
                    break;
                case TcpRuleKind.LuaAction:
                    var verdict = await RunActionAsync(rule, LuaActionTargets.TcpReq).ConfigureAwait(false);
                    if (_terminated)
                    {
                        return false;
                    }

                    if (verdict is LuaActionReturn.Stop or LuaActionReturn.Done)
                    {
                        return true;
                    }

                    if (verdict != LuaActionReturn.Continue)
                    {
                        RefusedByLua(verdict, px, response: false);
                        return false;
                    }

                    break;
            }
        }

        return true;
    }

    private async Task RunServiceAsync(LuaRegistration service)
    {
        var fn = service.For(_worker);
        var outcome = await TcpServiceRunner.RunAsync(fn, _client, _generation.Lua.Settings.ServiceTimeout, _idle, _idle!.Token, this, Request, _priv, (bytesIn, bytesOut) =>
        {
            // The applet's traffic goes through the frontend's channels (HAProxy counts it there).
            _log?.Received(bytesIn);
            _log?.Sent(bytesOut);
            Counters.Add(ref _frontend.FrontendCounters.Bin, bytesIn);
            Counters.Add(ref _frontend.FrontendCounters.Bout, bytesOut);
            if (_listenerCounters is { } lc)
            {
                Counters.Add(ref lc.Bin, bytesIn);
                Counters.Add(ref lc.Bout, bytesOut);
            }
        }).ConfigureAwait(false);
        if (outcome is LuaOutcome.Error or LuaOutcome.Timeout or LuaOutcome.OutOfMemory)
        {
            Counters.Inc(ref _frontend.FrontendCounters.Ereq);
        }

        _client.ShutdownSend();
    }

    /// <summary>Reads more request data, or returns when the inspect delay expires.</summary>
    private async Task WaitForRequestDataAsync(long deadline)
    {
        long remaining = deadline - Environment.TickCount64;
        if (remaining <= 0)
        {
            return;
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_idle!.Token);
        cts.CancelAfter(TimeSpan.FromMilliseconds(remaining));
        try
        {
            await FillAsync(request: true, cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!_idle.Token.IsCancellationRequested)
        {
            // the inspect delay expired: the rules now see the final contents
        }
    }

    private ProxyRuntime? ChooseBackend() => _frontend.ChooseBackend(this);

    public async ValueTask FillAsync(bool request, CancellationToken cancellationToken)
    {
        var buf = request ? Request : Response;
        var socket = request ? _client : _serverSocket;
        if (socket is null || buf.InputClosed)
        {
            buf.InputClosed = true;
            return;
        }

        int n;
        try
        {
            n = await socket.ReceiveAsync(buf.FreeSpace, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            n = 0;
        }

        if (n == 0)
        {
            buf.InputClosed = true;
        }
        else
        {
            buf.Received(n);
            if (request)
            {
                _log?.Received(n);
                _idle?.ClientActivity();
            }
            else
            {
                _idle?.ServerActivity();
            }
        }
    }

    public async ValueTask FlushResponseOutputAsync()
    {
        int n = Response.OutLength;
        if (n == 0)
        {
            return;
        }

        await _client.SendAsync(Response.All[..n]).ConfigureAwait(false);
        _log?.Sent(n);
        Counters.Add(ref _frontend.FrontendCounters.Bout, n);
        if (_listenerCounters is { } lc)
        {
            Counters.Add(ref lc.Bout, n);
        }

        Response.ConsumeOutput(n);
    }
}
