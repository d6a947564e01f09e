using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using HaLua.DataPlane.Http;
using HaLua.DataPlane.Io;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Lua;
using HaLua.DataPlane.Lua.Classes;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Runtime;
using HaLua.DataPlane.Samples;
using HaLua.DataPlane.Stats;

namespace HaLua.DataPlane.Streams;

/// <summary>
/// One client connection of a <c>mode http</c> frontend: HTTP/1.1 requests one after the other
/// (keep-alive, pipelining answered in order), each parsed strictly (400 and nothing forwarded on
/// a malformed head), routed (use_backend), load balanced per request, sent to the server over a
/// connection kept for the next request when both sides allow it, with bodies streamed through a
/// fixed buffer (Content-Length, chunked validated on the fly, until close). Errors are HAProxy's:
/// 503 no server, 502 invalid response, 504 server timeout, 408 request timeout.
/// </summary>
internal sealed partial class HttpStream : ISampleContext, IHttpRequestView, IHttpResponseView, ILuaTxnHost, ILuaHttpHost
{
    private const int BufferSize = 16384;

    private readonly Connection _client;
    private readonly ProxyRuntime _frontend;
    private readonly Generation _generation;
    private readonly int _worker;
    private readonly CancellationToken _stopping;
    private readonly Counters? _listenerCounters;
    private readonly HttpHead _request = new();
    private readonly HttpHead _response = new();
    private readonly ChunkedDecoder _chunks = new();
    private IdleWatch? _idle;
    private ProxyRuntime? _backend;
    private ServerState? _serverState;
    private BackendState? _serverBackend;
    private Connection? _server;
    private ServerState? _serverConnectedTo;
    private bool _abort;
    private readonly HeadEditor _reqEdit = new(BufferSize);
    private readonly HeadEditor _resEdit = new(BufferSize);

    // The request head's bytes in the request buffer (the edited head, if any, is elsewhere).
    private int _requestHeadLength;

    // Lua: the TXN of the actions, the private data of the transaction, txn:done().
    private TxnContext? _txn;
    private readonly LuaPrivSlot _priv = new();
    private bool _terminated;
    private int? _pendingResponseStatus;

    public HttpStream(Connection client, ProxyRuntime frontend, Generation generation, int worker, CancellationToken stopping, Counters? listenerCounters = null)
    {
        _client = client;
        _frontend = frontend;
        _generation = generation;
        _worker = worker;
        _stopping = stopping;
        _listenerCounters = listenerCounters;
        Source = client.Remote;
        Destination = client.Local;
    }

    public IPEndPoint? Source { get; }

    public IPEndPoint? Destination { get; }

    public string FrontendName => _frontend.Name;

    public string? BackendName => _backend?.Name;

    public string? ServerName => _serverState?.Name;

    /// <summary>req.len: in HTTP mode, the buffered body (option http-buffer-request).</summary>
    public ReadOnlySpan<byte> RequestContent => ((IHttpRequestView)this).Body;

    public int Worker => _worker;

    public Variables Variables { get; } = new();

    public bool IsHttp => true;

    public Socket ClientSocket => _client.Socket;

    public string ProxyName => _frontend.Name;

    public int LogLevel { get; set; } = -1;

    // An HTTP stream has no raw channels: Channel functions raise before reaching these.
    ChannelBuffer ILuaTxnHost.Request => throw new InvalidOperationException("no raw channel in an HTTP stream");

    ChannelBuffer ILuaTxnHost.Response => throw new InvalidOperationException("no raw channel in an HTTP stream");

    ValueTask ILuaTxnHost.FillAsync(bool request, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    ValueTask ILuaTxnHost.FlushResponseOutputAsync() => ValueTask.CompletedTask;

    public void Terminate() => _terminated = true;

    public TxnContext Txn => _txn ??= new TxnContext(this, _priv) { Samples = this };

    HttpHead? ILuaHttpHost.MessageHead(bool response) => response ? (_currentResponse is null ? null : _response) : (_currentRequest is null ? null : _request);

    ReadOnlySpan<byte> ILuaHttpHost.MessageBytes(bool response) => response ? ResponseBytes : RequestBytes;

    HeadEditor ILuaHttpHost.MessageEditor(bool response) => response ? _resEdit : _reqEdit;

    public int UsableServers(string backend) => _generation.UsableServers(backend);

    // The request being routed (its head is at the start of the request buffer until it is sent).
    private HttpBuffer? _currentRequest;

    // After the request left its buffer, the head kept for response rules (empty without them).
    private ReadOnlySpan<byte> RequestBytes => _currentRequest is { } b ? _reqEdit.Current(b.Unread) : _reqEdit.Retained;

    ReadOnlySpan<byte> IHttpRequestView.Method => RequestBytes is { IsEmpty: false } r ? r[_request.Method] : default;

    ReadOnlySpan<byte> IHttpRequestView.Target => RequestBytes is { IsEmpty: false } r ? r[_request.Target] : default;

    int IHttpRequestView.Version => _request.Version;

    HttpHeaderView IHttpRequestView.Headers => RequestBytes is { IsEmpty: false } r ? new(_request, r) : new(null, default);

    // option http-buffer-request: the body waited for before the rules (de-chunked in _chunkedBody).
    private bool _bodyBuffered;

    // The bytes of the whole buffered body as received (framing included), -1 when only a part is buffered.
    private int _bufferedBodyWire;
    private System.Buffers.ArrayBufferWriter<byte>? _chunkedBody;

    ReadOnlySpan<byte> IHttpRequestView.Body
    {
        get
        {
            if (!_bodyBuffered || _currentRequest is not { } b)
            {
                return default;
            }

            if (_request.Framing == BodyFraming.Chunked)
            {
                return _chunkedBody!.WrittenSpan;
            }

            var body = b.Unread[_requestHeadLength..];
            return _request.Framing == BodyFraming.ContentLength && body.Length > _request.ContentLength ? body[..(int)_request.ContentLength] : body;
        }
    }

    // The response being checked by http-response rules.
    private HttpBuffer? _currentResponse;

    private ReadOnlySpan<byte> ResponseBytes => _currentResponse is { } b ? _resEdit.Current(b.Unread) : default;

    int IHttpResponseView.ResponseStatus => _currentResponse is null ? 0 : _response.Status;

    HttpHeaderView IHttpResponseView.ResponseHeaders => new(_currentResponse is null ? null : _response, ResponseBytes);

    public async Task RunAsync()
    {
        var fe = _frontend.FrontendCounters;
        fe.SessionStarted();
        _listenerCounters?.SessionStarted();
        using var idle = IdleTimeouts.Shared.Watch(_frontend.ClientTimeout, TimeSpan.Zero, _stopping);
        _idle = idle;
        _log = StreamLog.Open(_frontend, this, http: true);
        using var req = new HttpBuffer(BufferSize);
        using var res = new HttpBuffer(BufferSize);
        try
        {
            await ServeAsync(req, res).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            _abort = true;
            LogFailure(ex);
        }
        catch (Exception ex)
        {
            _abort = true;
            LogFailure(ex);
            ProcessLog.Instance.Alert($"stream on '{_frontend.Name}' failed: {ex}");
        }
        finally
        {
            fe.SessionEnded();
            _listenerCounters?.SessionEnded();
            ReleaseServer();
            _server?.Close(abort: true);
            _client.Close(_abort);
            _reqEdit.Dispose();
            _resEdit.Dispose();
            if (_txn is { } txn)
            {
                await txn.Table.ReleaseAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The connection's requests one after the other. One method (one state machine for the whole
    /// connection): nested async helpers that wait would each need a state machine per request,
    /// and with many streams on one thread the pooled ones run out (measured: 700 bytes per request).
    /// </summary>
    private async ValueTask ServeAsync(HttpBuffer req, HttpBuffer res)
    {
        for (bool first = true; !_stopping.IsCancellationRequested; first = false)
        {
            _log?.Begin(first, req.Length > 0);
            // The request head (inlined: see the summary).
                // HAProxy's timeouts: a new request must start within timeout http-keep-alive (after a
                // response; else http-request, else client), and a started request must be complete
                // within timeout http-request (else client) counted from its first byte, not from the
                // last one: a deadline, so that a slow sender cannot hold the connection forever.
                var t = _frontend.Config.Timeouts;
                var requestTimeout = t.HttpRequest ?? _frontend.ClientTimeout;
                bool started = first || req.Length > 0;
                _backend = null;
                req.Compact();
                _idle!.SetTimeouts(started ? requestTimeout : t.HttpKeepAlive ?? requestTimeout, TimeSpan.Zero);
                _idle.ClientActivity();
                while (true)
                {
                    var status = HttpParser.ParseRequest(req.Unread, _request, BufferSize, out _);
                    if (status == HttpParseStatus.Done)
                    {
                        goto HeadRead;
                    }

                    if (status == HttpParseStatus.Error)
                    {
                        Counters.Inc(ref _frontend.FrontendCounters.Ereq);
                        await SendErrorAsync(400).ConfigureAwait(false);
                        LogNoRequest(first, 400, 'P');
                        return;
                    }

                    int n;
                    try
                    {
                        n = await _client.ReceiveAsync(req.Free, _idle.Token).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException) when (!_stopping.IsCancellationRequested && _idle.ExpiredSide == 'c')
                    {
                        // A started request gets 408; an idle connection just closes
                        if (req.Length > 0)
                        {
                            Counters.Inc(ref _frontend.FrontendCounters.Ereq);
                            await SendErrorAsync(408).ConfigureAwait(false);
                        }

                        LogNoRequest(first, 408, 'c');
                        return;
                    }

                    if (n == 0)
                    {
                        LogNoRequest(first, 400, 'C');
                        return;
                    }

                    req.End += n;
                    CountIn(n);
                    if (!started)
                    {
                        // The first byte of a kept-alive connection's next request: its deadline starts.
                        started = true;
                        _idle.SetTimeouts(requestTimeout, TimeSpan.Zero);
                        _idle.ClientActivity();
                    }
                }
        HeadRead:

            bool keep;
                _currentRequest = req;
                _frontend.FrontendCounters.Request();
                Interlocked.Increment(ref ProcessCounters.CumulatedRequests);
                LogRequestHead(req);
                _reqEdit.Reset();
                _requestHeadLength = _request.Length;
                _terminated = false;
                _bodyBuffered = false;
                Variables.EndTransaction();
                if (_frontend.Config.BufferRequest && !await BufferBodyAsync(req).ConfigureAwait(false))
                {
                    LogBufferingFailed();
                    return;
                }

                var answered = await RunHttpRequestRulesAsync(_frontend, req).ConfigureAwait(false);
                if (answered is { } keepAfterAnswer)
                {
                    _currentRequest = null;
                    { keep = keepAfterAnswer; goto Next; }
                }

                var bePx = ChooseBackend();
                _backend = bePx;
                if (bePx is not null && bePx != _frontend)
                {
                    // A backend's http-request rules run once the request reaches it, as in HAProxy.
                    if (bePx.Config.BufferRequest && !_bodyBuffered && !await BufferBodyAsync(req).ConfigureAwait(false))
                    {
                        LogBufferingFailed();
                        return;
                    }

                    answered = await RunHttpRequestRulesAsync(bePx, req).ConfigureAwait(false);
                    if (answered is { } keepAfterBackend)
                    {
                        _currentRequest = null;
                        { keep = keepAfterBackend; goto Next; }
                    }
                }

                if (bePx?.Backend is not { } be)
                {
                    _log?.Terminate('S', 'C');
                    _currentRequest = null;
                    await SendErrorAsync(503).ConfigureAwait(false);
                    { keep = false; goto Next; }
                }

                be.Counters.Request();

                // The stricter connection mode of frontend and backend (HAProxy): http-server-close
                // and httpclose tell the server "connection: close" (not on upgrades).
                var connectionMode = (Config.HttpConnectionMode)Math.Max((int)_frontend.Config.HttpConnectionMode, (int)bePx.Config.HttpConnectionMode);
                if (connectionMode != Config.HttpConnectionMode.KeepAlive && !_request.Upgrade)
                {
                    _reqEdit.Set(_request, RequestBytes, "connection"u8, "close"u8);
                }

                if ((_frontend.Config.ForwardFor || bePx.Config.ForwardFor) && Source is { } client)
                {
                    _reqEdit.Add(_request, RequestBytes, "x-forwarded-for", (client.Address.IsIPv4MappedToIPv6 ? client.Address.MapToIPv4() : client.Address).ToString());
                }

                if (_reqEdit.Failed)
                {
                    // A rewrite failed (HAProxy's strict-mode): the request is not forwarded.
                    _log?.Terminate('P', 'R');
                    _currentRequest = null;
                    await SendErrorAsync(500).ConfigureAwait(false);
                    { keep = false; goto Next; }
                }

                bool rewritten = _reqEdit.Changed;
                bool requestWasHead = RequestBytes[_request.Method].SequenceEqual("HEAD"u8);
                if (bePx.HttpResponseRules.Length > 0 || _frontend.HttpResponseRules.Length > 0)
                {
                    // Response rules may read the request (method, path, headers): keep its head.
                    _reqEdit.Retain(RequestBytes[.._requestHeadLength]);
                }

                _currentRequest = null;

                if (!await ConnectAsync(bePx, be, first).ConfigureAwait(false))
                {
                    await SendErrorAsync(503).ConfigureAwait(false);
                    { keep = false; goto Next; }
                }

                var server = _server!;
                var srv = _serverState!;
                srv.Counters.Request();
                bool clientClose = _request.Close;
                bool upgrade = _request.Upgrade;
                be.Counters.SessionStarted();
                srv.Counters.SessionStarted();
                try
                {
                    _idle!.SetTimeouts(_frontend.ClientTimeout, bePx.ServerTimeout);
                    _idle.ServerActivity();

                    int headInBuffer = _requestHeadLength;
                    int headStart = req.Start; // where the head stays readable until the next client read (http-reuse retries)
                    if (rewritten)
                    {
                        // Rules changed the head: the new one goes first, the original is dropped.
                        await server.SendAsync(_reqEdit.Memory, _idle.Token).ConfigureAwait(false);
                        CountUp(be, srv, _reqEdit.Bytes.Length);
                        req.Consume(headInBuffer);
                        headInBuffer = 0;
                    }

                    if (_request.ExpectContinue && _request.Framing != BodyFraming.None && req.Length == headInBuffer)
                    {
                        // "Expect: 100-continue" and no body yet: the head goes alone, then whichever comes
                        // first, the server's answer (100 or a final one) or the client's body.
                        var outcome = await ExpectContinueAsync(req, res, server, requestWasHead, be, srv, headInBuffer).ConfigureAwait(false);
                        if (outcome is not null)
                        {
                            { keep = outcome.Value; goto Next; }
                        }
                    }
                    else if (!await ForwardBodyAsync(_client, req, server, _request.Framing, _request.ContentLength, fromClient: true, be, srv, headInBuffer).ConfigureAwait(false))
                    {
                        // The head as received, with the body (what of it is already here goes in the same send).
                        _log?.Terminate('C', 'D');
                        _abort = true;
                        { keep = false; goto Next; }
                    }

                    // The response head (after any 1xx), within timeout server.
                    _idle.SetTimeouts(TimeSpan.Zero, bePx.ServerTimeout);
                    while (true)
                    {
                        int parsed;
                        if (_pendingResponseStatus is { } pending)
                        {
                            // Already read while the body went through (Expect: 100-continue).
                            parsed = pending;
                            _pendingResponseStatus = null;
                        }
                        else
                        {
                            parsed = -1;
                            res.Compact();
                            while (parsed < 0)
                            {
                                // Inlined ReadResponseHeadAsync (one state machine per connection).
                                var responseStatus = HttpParser.ParseResponse(res.Unread, _response, BufferSize, requestWasHead, out _);
                                if (responseStatus != HttpParseStatus.NeedMore)
                                {
                                    parsed = responseStatus == HttpParseStatus.Done ? 0 : 502;
                                    break;
                                }

                                int got;
                                try
                                {
                                    got = await server.ReceiveAsync(res.Free, _idle!.Token).ConfigureAwait(false);
                                }
                                catch (OperationCanceledException) when (!_stopping.IsCancellationRequested && _idle!.ExpiredSide == 's')
                                {
                                    parsed = 504;
                                    break;
                                }
                                catch (SocketException)
                                {
                                    got = 0;
                                }

                                if (got == 0)
                                {
                                    // http-reuse: a reused connection the server closed before answering; the request again on a new one.
                                    if (res.Length == 0 && await RetryOnNewConnectionAsync(bePx, be, srv, rewritten, req, headStart).ConfigureAwait(false))
                                    {
                                        server = _server!;
                                        continue;
                                    }

                                    parsed = 502;
                                    break;
                                }

                                res.End += got;
                                _idle!.ServerActivity();
                            }
                        }

                        if (parsed != 0)
                        {
                            _log?.Terminate(parsed == 504 ? 's' : 'S', 'H');
                            Counters.Inc(ref be.Counters.Eresp);
                            Counters.Inc(ref srv.Counters.Eresp);
                            await SendErrorAsync(parsed).ConfigureAwait(false);
                            CloseServer();
                            { keep = false; goto Next; }
                        }

                        if (_response.Status >= 200 || _response.Status == 101)
                        {
                            break;
                        }

                        // 1xx: forwarded alone, then the next head.
                        int interim = _response.Length;
                        await _client.SendAsync(res.Data.AsMemory(res.Start, interim), _idle.Token).ConfigureAwait(false);
                        CountDown(be, srv, interim);
                        res.Consume(interim);
                    }

                    _log?.ResponseHead(_response.Status);
                    CountResponse(_response.Status);
                    srv.Counters.Response(_response.Status);
                    Variables.BeginResponse();
                    _idle.SetTimeouts(_frontend.ClientTimeout, bePx.ServerTimeout);
                    if (_response.Status == 101 && upgrade)
                    {
                        int switching = _response.Length;
                        await _client.SendAsync(res.Data.AsMemory(res.Start, switching), _idle.Token).ConfigureAwait(false);
                        CountDown(be, srv, switching);
                        res.Consume(switching);
                        // WebSocket and other upgrades: a tunnel from now on (timeout tunnel when set).
                        if (bePx.TunnelTimeout is { } tunnel)
                        {
                            _idle.SetTunnel(tunnel);
                        }

                        if (res.Length > 0)
                        {
                            await _client.SendAsync(res.UnreadMemory, _idle.Token).ConfigureAwait(false);
                            CountDown(be, srv, res.Length);
                            res.Consume(res.Length);
                        }

                        if (req.Length > 0)
                        {
                            await server.SendAsync(req.UnreadMemory, _idle.Token).ConfigureAwait(false);
                            CountUp(be, srv, req.Length);
                            req.Consume(req.Length);
                        }

                        _abort = await TunnelAsync(server, be, srv).ConfigureAwait(false);
                        _server = null;
                        { keep = false; goto Next; }
                    }

                    var framing = _response.Framing;
                    bool serverClose = _response.Close || framing == BodyFraming.UntilClose;
                    int responseHead = _response.Length;
                    bool closeBoth = connectionMode == Config.HttpConnectionMode.Close;
                    if (bePx.HttpResponseRules.Length > 0 || _frontend.HttpResponseRules.Length > 0 || closeBoth)
                    {
                        // http-response rules: the backend's, then the frontend's (as HAProxy).
                        _currentResponse = res;
                        _resEdit.Reset();
                        var verdict = bePx != _frontend ? await RunHttpResponseRulesAsync(bePx).ConfigureAwait(false) : ResponseVerdict.Forward;
                        if (verdict == ResponseVerdict.Forward)
                        {
                            verdict = await RunHttpResponseRulesAsync(_frontend).ConfigureAwait(false);
                        }

                        bool denied = verdict != ResponseVerdict.Forward;
                        if (closeBoth && !denied)
                        {
                            // httpclose: the client is told too.
                            _resEdit.Set(_response, ResponseBytes, "connection"u8, "close"u8);
                        }

                        _currentResponse = null;
                        if (!denied && _resEdit.Failed)
                        {
                            // A failed rewrite (HAProxy's strict-mode): the response is replaced by a 502.
                            _log?.Terminate('P', 'H');
                            Counters.Inc(ref be.Counters.Eresp);
                            await SendErrorAsync(502).ConfigureAwait(false);
                            denied = true;
                        }

                        if (denied)
                        {
                            // A Lua reply replaced the response: the client's connection may go on.
                            CloseServer();
                            { keep = verdict == ResponseVerdict.Answered && !clientClose && !closeBoth; goto Next; }
                        }

                        if (_resEdit.Changed)
                        {
                            await _client.SendAsync(_resEdit.Memory, _idle.Token).ConfigureAwait(false);
                            CountDown(be, srv, _resEdit.Bytes.Length);
                            res.Consume(responseHead);
                            responseHead = 0;
                        }
                    }

                    if (!await ForwardBodyAsync(server, res, _client, framing, _response.ContentLength, fromClient: false, be, srv, responseHead).ConfigureAwait(false))
                    {
                        _log?.Terminate('S', 'D');
                        _abort = true;
                        { keep = false; goto Next; }
                    }

                    if (serverClose || res.Length > 0 || connectionMode != Config.HttpConnectionMode.KeepAlive)
                    {
                        CloseServer();
                    }
                    else
                    {
                        ReleaseServerConnection(bePx);
                    }

                    { keep = !clientClose && !closeBoth && framing != BodyFraming.UntilClose; goto Next; }
                }
                finally
                {
                    be.Counters.SessionEnded();
                    srv.Counters.SessionEnded();
                    ReleaseServer();
                }
        Next:
            LogEnd();
            if (_priv.State is not null)
            {
                await _priv.ReleaseAsync().ConfigureAwait(false);
            }

            if (!keep)
            {
                return;
            }
        }
    }

    /// <summary>
    /// After a 101: bytes both ways until either side ends; true when it ended by an error. (Its
    /// own method: the counting lambdas would otherwise make a closure for every request.)
    /// </summary>
    private async Task<bool> TunnelAsync(Connection server, BackendState be, ServerState srv)
    {
        var result = await TcpTunnel.RunAsync(_client, server, _idle!, n => { _log?.Received(n); CountUp(be, srv, n); }, n => CountDown(be, srv, n)).ConfigureAwait(false);
        _log?.TunnelEnded(result.ClientAborted, result.ServerAborted, _idle!.ExpiredSide, _stopping.IsCancellationRequested || _idle.Killed);
        return result.ClientAborted || result.ServerAborted;
    }

    /// <summary>
    /// The head of an "Expect: 100-continue" request is sent; races the server's answer against the
    /// client's body. A 100 goes to the client and the body follows; a final answer first goes to
    /// the client and ends the connection (the unsent body cannot be skipped safely). Null when the
    /// body went through and the final response is still to be read; else whether to keep the client.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool?> ExpectContinueAsync(HttpBuffer req, HttpBuffer res, Connection server, bool requestWasHead, BackendState be, ServerState srv, int headInBuffer)
    {
        await SendAsync(server, req, headInBuffer, fromClient: true, be, srv).ConfigureAwait(false);
        var framing = _request.Framing;
        long length = _request.ContentLength;
        var serverAnswer = ReadResponseHeadAsync(server, res, requestWasHead).AsTask();
        var clientBody = FillAsync(_client, req, fromClient: true).AsTask();
        while (true)
        {
            var first = await Task.WhenAny(serverAnswer, clientBody).ConfigureAwait(false);
            if (first == clientBody)
            {
                if (!await clientBody.ConfigureAwait(false)
                    || !await ForwardBodyAsync(_client, req, server, framing, length, fromClient: true, be, srv, 0).ConfigureAwait(false))
                {
                    _abort = true;
                    return false;
                }

                // The body is through; the response is read by the caller, but this read is already running.
                int parsed = await serverAnswer.ConfigureAwait(false);
                _pendingResponseStatus = parsed;
                return null;
            }

            int status = await serverAnswer.ConfigureAwait(false);
            if (status != 0)
            {
                await SendErrorAsync(status).ConfigureAwait(false);
                return false;
            }

            int headLength = _response.Length;
            if (_response.Status == 100)
            {
                await SendAsync(_client, res, headLength, fromClient: false, be, srv).ConfigureAwait(false);
                serverAnswer = ReadResponseHeadAsync(server, res, requestWasHead).AsTask();
                continue;
            }

            // A final answer before the body (417, 401...): forward it, then close.
            await ForwardBodyAsync(server, res, _client, _response.Framing, _response.ContentLength, fromClient: false, be, srv, headLength).ConfigureAwait(false);
            CloseServer();
            return false;
        }
    }

    /// <summary>Reads and parses the server's response head; 0 when parsed, else the status to answer (502, 504).</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadResponseHeadAsync(Connection server, HttpBuffer res, bool requestWasHead)
    {
        res.Compact();
        while (true)
        {
            var status = HttpParser.ParseResponse(res.Unread, _response, BufferSize, requestWasHead, out _);
            if (status == HttpParseStatus.Done)
            {
                return 0;
            }

            if (status == HttpParseStatus.Error)
            {
                return 502;
            }

            int n;
            try
            {
                n = await server.ReceiveAsync(res.Free, _idle!.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!_stopping.IsCancellationRequested && _idle!.ExpiredSide == 's')
            {
                return 504;
            }
            catch (SocketException)
            {
                n = 0;
            }

            if (n == 0)
            {
                return 502;
            }

            res.End += n;
            _idle!.ServerActivity();
        }
    }

    /// <summary>
    /// Sends the head (the first <paramref name="headBytes"/> unread bytes of <paramref name="buf"/>)
    /// and streams the body after it from <paramref name="from"/> to <paramref name="to"/>. Whatever
    /// part of the body has already arrived goes out in the same send as the head.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ForwardBodyAsync(Connection from, HttpBuffer buf, Connection to, BodyFraming framing, long length, bool fromClient, BackendState be, ServerState srv, int headBytes)
    {
        switch (framing)
        {
            case BodyFraming.None:
                await SendAsync(to, buf, headBytes, fromClient, be, srv).ConfigureAwait(false);
                return true;

            case BodyFraming.ContentLength:
                long left = length;
                while (left > 0)
                {
                    if (buf.Length == headBytes)
                    {
                        // No body byte here yet: the head goes now (a client waiting for
                        // "100 Continue" sends nothing before the server answers it).
                        await SendAsync(to, buf, headBytes, fromClient, be, srv).ConfigureAwait(false);
                        headBytes = 0;
                        if (!await FillAsync(from, buf, fromClient).ConfigureAwait(false))
                        {
                            return false;
                        }
                    }

                    int n = (int)Math.Min(left, buf.Length - headBytes);
                    await SendAsync(to, buf, headBytes + n, fromClient, be, srv).ConfigureAwait(false);
                    headBytes = 0;
                    left -= n;
                }

                return true;

            case BodyFraming.Chunked:
                _chunks.Reset();
                while (true)
                {
                    if (buf.Length == headBytes)
                    {
                        await SendAsync(to, buf, headBytes, fromClient, be, srv).ConfigureAwait(false);
                        headBytes = 0;
                        if (!await FillAsync(from, buf, fromClient).ConfigureAwait(false))
                        {
                            return false;
                        }
                    }

                    var status = _chunks.Consume(buf.Unread[headBytes..], out int consumed);
                    if (status == ChunkedStatus.Error)
                    {
                        if (fromClient)
                        {
                            Counters.Inc(ref _frontend.FrontendCounters.Ereq);
                        }
                        else
                        {
                            Counters.Inc(ref be.Counters.Eresp);
                            Counters.Inc(ref srv.Counters.Eresp);
                        }

                        return false;
                    }

                    if (headBytes + consumed > 0)
                    {
                        await SendAsync(to, buf, headBytes + consumed, fromClient, be, srv).ConfigureAwait(false);
                        headBytes = 0;
                    }

                    if (status == ChunkedStatus.Done)
                    {
                        return true;
                    }
                }

            default:
                // Until the server closes.
                while (true)
                {
                    if (buf.Length > 0)
                    {
                        await SendAsync(to, buf, buf.Length, fromClient, be, srv).ConfigureAwait(false);
                    }

                    if (!await FillAsync(from, buf, fromClient).ConfigureAwait(false))
                    {
                        return true;
                    }
                }
        }
    }

    /// <summary>Sends and consumes the first <paramref name="n"/> unread bytes of <paramref name="buf"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SendAsync(Connection to, HttpBuffer buf, int n, bool fromClient, BackendState be, ServerState srv)
    {
        if (n == 0)
        {
            return;
        }

        await to.SendAsync(buf.Data.AsMemory(buf.Start, n), _idle!.Token).ConfigureAwait(false);
        Count(fromClient, be, srv, n);
        buf.Consume(n);
    }

    /// <summary>Receives more into <paramref name="buf"/>; false at the end of the peer's stream.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> FillAsync(Connection from, HttpBuffer buf, bool fromClient)
    {
        int n = await from.ReceiveAsync(buf.Free, _idle!.Token).ConfigureAwait(false);
        if (n == 0)
        {
            return false;
        }

        buf.End += n;
        if (fromClient)
        {
            _log?.Received(n);
            _idle.ClientActivity();
        }
        else
        {
            _idle.ServerActivity();
        }

        return true;
    }

    /// <summary>
    /// A server for this request: the kept connection when the balancer picks the same server, else
    /// an idle one from the server's pool (http-reuse), else a new one (retries, redispatch).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> ConnectAsync(ProxyRuntime bePx, BackendState be, bool firstRequest)
    {
        var token = _idle!.Token;
        int retries = bePx.Config.Retries;
        ServerState? avoid = null;
        for (int attempt = 0; ; attempt++)
        {
            var srv = await be.AcquireAsync(Source?.Address, avoid, bePx.QueueTimeout, token).ConfigureAwait(false);
            if (srv is null)
            {
                _log?.Terminate(be.UsableServers > 0 ? 's' : 'S', be.UsableServers > 0 ? 'Q' : 'C');
                return false;
            }

            _log?.Queued(srv);
            _serverState = srv;
            _serverBackend = be;
            srv.Streams.Add(_idle);
            if (_server is not null && _serverConnectedTo == srv && _server.IsIdleUsable())
            {
                // Keep-alive on the server side (http-reuse never): the same server again, the same connection.
                _serverReused = true;
                _serverRequests++;
                Counters.Inc(ref srv.Counters.Reuse);
                Counters.Inc(ref be.Counters.Reuse);
                _log?.Connected(_server.Local);
                return true;
            }

            CloseServer();
            if (TakeIdleServerConnection(bePx, srv, firstRequest))
            {
                return true;
            }

            try
            {
                await ConnectNewAsync(bePx, srv, token).ConfigureAwait(false);
                return true;
            }
            catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !token.IsCancellationRequested))
            {
                ReleaseServer();
                Counters.Inc(ref srv.Counters.Econ);
                Counters.Inc(ref be.Counters.Econ);
                if (attempt >= retries)
                {
                    _log?.Terminate('S', 'C');
                    return false;
                }

                Counters.Inc(ref srv.Counters.Wretr);
                Counters.Inc(ref be.Counters.Wretr);
                _log?.Retried(bePx.Config.Redispatch && attempt + 1 == retries);
                if (bePx.Config.Redispatch && attempt + 1 == retries)
                {
                    avoid = srv;
                }
            }
        }
    }

    /// <summary>Closes the kept server connection (the request's server slot is released separately).</summary>
    private void CloseServer()
    {
        _server?.Close(abort: false);
        _server = null;
        _serverConnectedTo = null;
    }

    private void ReleaseServer()
    {
        if (_serverState is { } s && _serverBackend is { } be)
        {
            if (_idle is { } link)
            {
                s.Streams.Remove(link);
            }

            be.Release(s);
        }

        _serverState = null;
        _serverBackend = null;
    }

    /// <summary>
    /// A proxy's http-request rules, in order. Null to go on with the request; else the stream
    /// answered it itself (deny, return, redirect) and this tells whether the connection stays open.
    /// </summary>
    private async ValueTask<bool?> RunHttpRequestRulesAsync(ProxyRuntime px, HttpBuffer req)
    {
        foreach (var rule in px.HttpRequestRules)
        {
            if (rule.Condition is { } c && !c.Evaluate(this))
            {
                continue;
            }

            switch (rule.Kind)
            {
                case Config.HttpRuleKind.Allow:
                    return null;

                case Config.HttpRuleKind.UseService:
                    return await RunServiceAsync(rule.Service!, req).ConfigureAwait(false);

                case Config.HttpRuleKind.Deny:
                    _log?.Answered(rule.Status, 'P');
                    Counters.Inc(ref _frontend.FrontendCounters.Dreq);
                    await AnswerAsync(rule.Status, ErrorPage(rule.Status)).ConfigureAwait(false);
                    return false;

                case Config.HttpRuleKind.Return:
                    _log?.Answered(rule.Status, 'L');
                    return await AnswerAsync(rule.Status, HttpResponses.Return(rule.Status, rule.ContentType, rule.Value?.Evaluate(this)), req).ConfigureAwait(false);

                case Config.HttpRuleKind.Redirect:
                    _log?.Answered(rule.Status, 'L');
                    return await AnswerAsync(rule.Status, HttpResponses.Redirect(rule.Status, RedirectTarget(rule), rule.Cookie), req).ConfigureAwait(false);

                case Config.HttpRuleKind.SetMethod or Config.HttpRuleKind.SetPath or Config.HttpRuleKind.SetQuery or Config.HttpRuleKind.SetUri:
                    SetRequestLine(rule);
                    break;

                default:
                    var verdict = await RunSharedRuleAsync(rule, response: false).ConfigureAwait(false);
                    if (verdict is LuaActionReturn.Stop or LuaActionReturn.Done)
                    {
                        return null;
                    }

                    if (verdict != LuaActionReturn.Continue)
                    {
                        return await AnswerLuaRequestAsync(verdict, req).ConfigureAwait(false);
                    }

                    break;
            }
        }

        return null;
    }

    /// <summary>
    /// option http-buffer-request: waits (within timeout http-request) until the whole body, or as
    /// much as the buffer holds, is there, so that rules can read req.body. Answers "100 Continue"
    /// itself when the client waits for it, as HAProxy does. False when the stream must end (an
    /// error was answered or the client left).
    /// </summary>
    private async ValueTask<bool> BufferBodyAsync(HttpBuffer req)
    {
        _bodyBuffered = true;
        _bufferedBodyWire = -1;
        if (_request.Framing == BodyFraming.None)
        {
            _bufferedBodyWire = 0;
            return true;
        }

        if (_request.ExpectContinue && req.Length == _requestHeadLength)
        {
            await _client.SendAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray(), _idle!.Token).ConfigureAwait(false);
            _request.ExpectContinue = false;
        }

        var decoder = _request.Framing == BodyFraming.Chunked ? new ChunkedDecoder() : null;
        while (true)
        {
            var body = req.Unread[_requestHeadLength..];
            if (decoder is not null)
            {
                decoder.Reset();
                _chunkedBody ??= new System.Buffers.ArrayBufferWriter<byte>();
                _chunkedBody.Clear();
                var status = decoder.Consume(body, out int wire, _chunkedBody);
                if (status == ChunkedStatus.Error)
                {
                    Counters.Inc(ref _frontend.FrontendCounters.Ereq);
                    await SendErrorAsync(400).ConfigureAwait(false);
                    return false;
                }

                if (status == ChunkedStatus.Done)
                {
                    _bufferedBodyWire = wire;
                    return true;
                }
            }
            else if (body.Length >= _request.ContentLength)
            {
                _bufferedBodyWire = (int)_request.ContentLength;
                return true;
            }

            if (req.Free.Length == 0)
            {
                // As much as the buffer holds: the rules see that part (HAProxy does the same).
                return true;
            }

            int n;
            try
            {
                n = await _client.ReceiveAsync(req.Free, _idle!.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!_stopping.IsCancellationRequested && _idle!.ExpiredSide == 'c')
            {
                Counters.Inc(ref _frontend.FrontendCounters.Ereq);
                await SendErrorAsync(408).ConfigureAwait(false);
                return false;
            }

            if (n == 0)
            {
                return false;
            }

            req.End += n;
            CountIn(n);
        }
    }

    /// <summary>set-method, set-path, set-query, set-uri.</summary>
    private void SetRequestLine(HttpRule rule)
    {
        var part = rule.Kind switch
        {
            Config.HttpRuleKind.SetMethod => RequestLinePart.Method,
            Config.HttpRuleKind.SetPath => RequestLinePart.Path,
            Config.HttpRuleKind.SetQuery => RequestLinePart.Query,
            _ => RequestLinePart.Uri,
        };
        _reqEdit.SetRequestPart(_request, RequestBytes, part, System.Text.Encoding.Latin1.GetBytes(rule.Value!.Evaluate(this)));
    }

    /// <summary>
    /// Where a redirect goes. location: the evaluated string; prefix: the prefix then the request's
    /// path and query; scheme: "SCHEME://" then the Host header and the path and query (HAProxy).
    /// drop-query removes the query and append-slash adds a final "/" (prefix and scheme).
    /// </summary>
    private string RedirectTarget(HttpRule rule)
    {
        string value = rule.Value!.Evaluate(this);
        if (rule.RedirectType == "location")
        {
            return value;
        }

        string uri = System.Text.Encoding.Latin1.GetString(((IHttpRequestView)this).Target);
        if (rule.DropQuery && uri.IndexOf('?', StringComparison.Ordinal) is var q and >= 0)
        {
            uri = uri[..q];
        }

        if (rule.AppendSlash && !uri.EndsWith('/') && !uri.Contains('?', StringComparison.Ordinal))
        {
            uri += "/";
        }

        if (rule.RedirectType == "prefix")
        {
            return value.TrimEnd('/') + uri;
        }

        string host = HttpFetches.Occurrence(((IHttpRequestView)this).Headers, "host", 1, splitCommas: false) ?? "";
        return value + "://" + host + uri;
    }

    /// <summary>Hands the request to a Lua HTTP service; true when the connection can serve another request.</summary>
    private async ValueTask<bool> RunServiceAsync(HaLua.DataPlane.Lua.LuaRegistration service, HttpBuffer req)
    {
        // The head's bytes: the rules' edited head, or the received one (still in the buffer
        // after Consume: nothing is received into it before the applet object is pushed).
        var headBytes = _reqEdit.Changed ? _reqEdit.Memory : req.Data.AsMemory(req.Start, _requestHeadLength);
        long length = _request.Framing == BodyFraming.ContentLength ? _request.ContentLength : 0;
        var info = new HaLua.DataPlane.Lua.Classes.AppletHttpClass.RequestInfo(_request, headBytes, length);
        bool chunkedBody = _request.Framing == BodyFraming.Chunked;
        _log?.Service(service.Name);
        req.Consume(_requestHeadLength);
        _currentRequest = null;
        using var applet = new HaLua.DataPlane.Lua.Applets.HttpApplet(_client, req, length, _idle!.Token, chunkedBody, ErrorPage(500));
        bool keep = await HaLua.DataPlane.Lua.Applets.HttpServiceRunner.RunAsync(
            service.For(_worker), applet, info, _generation.Lua.Settings.ServiceTimeout, _idle.Token, this, _priv).ConfigureAwait(false);
        CountOut((int)Math.Min(int.MaxValue, applet.BytesOut));
        _log?.ResponseHead(applet.Status);
        CountResponse(applet.Status);

        return keep && !_request.Close;
    }

    /// <summary>A proxy's http-response rules on the current response: forward it, or it was answered otherwise (an error page, a Lua reply) or closed.</summary>
    private async ValueTask<ResponseVerdict> RunHttpResponseRulesAsync(ProxyRuntime px)
    {
        foreach (var rule in px.HttpResponseRules)
        {
            if (rule.Condition is { } c && !c.Evaluate(this))
            {
                continue;
            }

            switch (rule.Kind)
            {
                case Config.HttpRuleKind.Allow:
                    return ResponseVerdict.Forward;

                case Config.HttpRuleKind.Deny:
                    _log?.Answered(rule.Status, 'P');
                    if (_backend?.Backend is { } be)
                    {
                        Counters.Inc(ref be.Counters.Dresp);
                    }

                    await AnswerAsync(rule.Status, ErrorPage(rule.Status)).ConfigureAwait(false);
                    return ResponseVerdict.Closed;

                case Config.HttpRuleKind.SetStatus:
                    _log?.Status = rule.Status;
                    _resEdit.SetStatus(_response, ResponseBytes, rule.Status, rule.Value?.Evaluate(this));
                    break;

                default:
                    var verdict = await RunSharedRuleAsync(rule, response: true).ConfigureAwait(false);
                    if (verdict is LuaActionReturn.Stop or LuaActionReturn.Done || (verdict == LuaActionReturn.Abort && !_terminated))
                    {
                        // HAProxy 2.6 forwards the response after a bare act.ABORT too.
                        return ResponseVerdict.Forward;
                    }

                    if (verdict != LuaActionReturn.Continue)
                    {
                        return await AnswerLuaResponseAsync(verdict).ConfigureAwait(false);
                    }

                    break;
            }
        }

        return ResponseVerdict.Forward;
    }

    /// <summary>
    /// The rules both directions share: a Lua action, set-log-level, the header rules and the
    /// variables. What a Lua action asks for (its act.* code, txn:done); Continue for the others.
    /// </summary>
    private async ValueTask<LuaActionReturn> RunSharedRuleAsync(HttpRule rule, bool response)
    {
        switch (rule.Kind)
        {
            case Config.HttpRuleKind.LuaAction:
                return await RunLuaActionAsync(rule, response ? LuaActionTargets.HttpRes : LuaActionTargets.HttpReq).ConfigureAwait(false);
            case Config.HttpRuleKind.SetLogLevel:
                SetLogLevel(rule.Status);
                return LuaActionReturn.Continue;
            default:
                if (response)
                {
                    EditOrSetVar(rule, _response, ResponseBytes);
                }
                else
                {
                    EditOrSetVar(rule, _request, RequestBytes);
                }

                return LuaActionReturn.Continue;
        }
    }

    /// <summary>
    /// The header rules (set, add, del, replace-header, replace-value) on a head, their values
    /// evaluated now as in HAProxy, and set-var / unset-var.
    /// </summary>
    private void EditOrSetVar(HttpRule rule, HttpHead head, ReadOnlySpan<byte> bytes)
    {
        var editor = head == _request ? _reqEdit : _resEdit;
        switch (rule.Kind)
        {
            case Config.HttpRuleKind.DelHeader:
                if (rule.NameMatcher is { } matcher)
                {
                    editor.Delete(head, bytes, matcher);
                }
                else
                {
                    editor.Delete(head, bytes, rule.Name!);
                }

                break;
            case Config.HttpRuleKind.SetHeader:
                editor.Set(head, bytes, rule.Name!, rule.Value!.Evaluate(this));
                break;
            case Config.HttpRuleKind.AddHeader:
                editor.Add(head, bytes, rule.Name!, rule.Value!.Evaluate(this));
                break;
            case Config.HttpRuleKind.ReplaceHeader or Config.HttpRuleKind.ReplaceValue:
                editor.Replace(head, bytes, System.Text.Encoding.Latin1.GetBytes(rule.Name!), rule.Regex!, rule.Value!.Evaluate(this), rule.Kind == Config.HttpRuleKind.ReplaceValue);
                break;
            case Config.HttpRuleKind.SetVar:
                if (rule.Expression!.TryEvaluate(this, out var v))
                {
                    Variables.Set(rule.VarScope, rule.VarName!, v);
                }

                break;
            case Config.HttpRuleKind.UnsetVar:
                Variables.Unset(rule.VarScope, rule.VarName!);
                break;
        }
    }

    /// <summary>Sends a response HaLua made; with <paramref name="req"/>, keeps the connection when the request has no body.</summary>
    private async ValueTask<bool> AnswerAsync(int status, ReadOnlyMemory<byte> response, HttpBuffer? req = null)
    {
        CountResponse(status);
        // The connection can go on when the request's body is not left unread in it.
        int body = _request.Framing == BodyFraming.None ? 0 : _bodyBuffered ? _bufferedBodyWire : -1;
        bool keep = req is not null && body >= 0 && !_request.Close;
        if (keep)
        {
            req!.Consume(_requestHeadLength + body);
        }

        try
        {
            await _client.SendAsync(response, _idle!.Token).ConfigureAwait(false);
            CountOut(response.Length);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }

        return keep;
    }

    private void CountOut(int n)
    {
        _log?.Sent(n);
        Counters.Add(ref _frontend.FrontendCounters.Bout, n);
        if (_listenerCounters is { } lc)
        {
            Counters.Add(ref lc.Bout, n);
        }
    }

    private ProxyRuntime? ChooseBackend() => _frontend.ChooseBackend(this);

    private async ValueTask SendErrorAsync(int status)
    {
        _log?.Status = status;
        CountResponse(status);
        try
        {
            var page = ErrorPage(status);
            await _client.SendAsync(page).ConfigureAwait(false);
            CountOut(page.Length);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // the client is gone
        }
    }

    /// <summary>A response to the client (hrsp_*): the frontend's, and the backend's once the request has one.</summary>
    private void CountResponse(int status)
    {
        _frontend.FrontendCounters.Response(status);
        _backend?.Backend?.Counters.Response(status);
    }

    private void CountIn(int n)
    {
        _log?.Received(n);
        Counters.Add(ref _frontend.FrontendCounters.Bin, n);
        if (_listenerCounters is { } lc)
        {
            Counters.Add(ref lc.Bin, n);
        }
    }

    private void Count(bool fromClient, BackendState be, ServerState srv, long n)
    {
        if (fromClient)
        {
            CountUp(be, srv, n);
        }
        else
        {
            CountDown(be, srv, n);
        }
    }

    private static void CountUp(BackendState be, ServerState s, long n)
    {
        Counters.Add(ref be.Counters.Bin, n);
        Counters.Add(ref s.Counters.Bin, n);
    }

    private void CountDown(BackendState be, ServerState s, long n)
    {
        _log?.Sent(n);
        Counters.Add(ref _frontend.FrontendCounters.Bout, n);
        Counters.Add(ref be.Counters.Bout, n);
        Counters.Add(ref s.Counters.Bout, n);
        if (_listenerCounters is { } lc)
        {
            Counters.Add(ref lc.Bout, n);
        }
    }
}
