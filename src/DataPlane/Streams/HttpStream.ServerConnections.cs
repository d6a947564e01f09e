using System.Net.Sockets;
using System.Runtime.CompilerServices;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Http;
using HaLua.DataPlane.Io;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Runtime;

namespace HaLua.DataPlane.Streams;

/// <summary>
/// Server connections across requests (HAProxy's <c>http-reuse</c>). With <c>never</c> a client
/// connection keeps its server connection for its own next request. Otherwise, after each response
/// the connection goes to the server's idle pool (its worker's list) and any client connection's
/// request may take it: with <c>safe</c> (the default) not the first request of a client
/// connection, with <c>aggressive</c> the first only when the connection has proven itself (more
/// than one request), with <c>always</c> any. A reused connection that the server closed before
/// answering is replaced by a new one and the request sent again, when it is safe to repeat (no
/// body, idempotent method): a request never fails because an idle connection died.
/// </summary>
internal sealed partial class HttpStream
{
    // Whether the server connection in hand carried an earlier request (kept or pooled), and how many it carried with this one.
    private bool _serverReused;
    private int _serverRequests;

    /// <summary>Takes an idle connection to <paramref name="srv"/> when the backend's http-reuse mode lets this request have one.</summary>
    private bool TakeIdleServerConnection(ProxyRuntime bePx, ServerState srv, bool firstRequest)
    {
        var mode = bePx.Config.HttpReuse;
        if (mode == HttpReuseMode.Never || (firstRequest && mode == HttpReuseMode.Safe))
        {
            return false;
        }

        var connection = srv.IdleConnections.TryTake(_worker, provenOnly: firstRequest && mode == HttpReuseMode.Aggressive, out int requests);
        if (connection is null)
        {
            return false;
        }

        _server = connection;
        _serverConnectedTo = srv;
        _serverReused = true;
        _serverRequests = requests + 1;
        Stats.Counters.Inc(ref srv.Counters.Reuse);
        Stats.Counters.Inc(ref srv.Backend.Counters.Reuse);
        _log?.Connected(connection.Local);
        return true;
    }

    /// <summary>After a complete response, a connection good for another request goes to its server's pool (http-reuse other than never).</summary>
    private void ReleaseServerConnection(ProxyRuntime bePx)
    {
        if (bePx.Config.HttpReuse == HttpReuseMode.Never || _server is not { } connection || _serverConnectedTo is not { } srv)
        {
            return;
        }

        _server = null;
        _serverConnectedTo = null;
        srv.IdleConnections.Return(_worker, connection, _serverRequests);
    }

    /// <summary>A new connection to <paramref name="srv"/> within timeout connect; throws when it fails.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ConnectNewAsync(ProxyRuntime bePx, ServerState srv, CancellationToken token)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(token);
        if (bePx.ConnectTimeout > TimeSpan.Zero)
        {
            cts.CancelAfter(bePx.ConnectTimeout);
        }

        _server = await Connection.ConnectAsync(srv.Address, _worker, cts.Token).ConfigureAwait(false);
        Stats.Counters.Inc(ref srv.Counters.Connect);
        Stats.Counters.Inc(ref srv.Backend.Counters.Connect);
        _serverConnectedTo = srv;
        _serverReused = false;
        _serverRequests = 1;
        _log?.Connected(_server.Local);
    }

    /// <summary>
    /// The reused connection ended without a byte of response: when the request can be repeated,
    /// sends it again (the edited head when <paramref name="rewritten"/>, else the head still at
    /// <paramref name="headStart"/> of <paramref name="req"/>) over a new connection to the same
    /// server. False to answer 502.
    /// </summary>
    private async ValueTask<bool> RetryOnNewConnectionAsync(ProxyRuntime bePx, BackendState be, ServerState srv, bool rewritten, HttpBuffer req, int headStart)
    {
        ReadOnlyMemory<byte> head = rewritten ? _reqEdit.Memory : req.Data.AsMemory(headStart, _requestHeadLength);
        if (!_serverReused || _request.Framing != BodyFraming.None || !IsIdempotent(head.Span[_request.Method]))
        {
            return false;
        }

        CloseServer();
        var token = _idle!.Token;
        try
        {
            await ConnectNewAsync(bePx, srv, token).ConfigureAwait(false);
            await _server!.SendAsync(head, token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException || (ex is OperationCanceledException && !token.IsCancellationRequested))
        {
            return false;
        }

        CountUp(be, srv, head.Length);
        _idle.ServerActivity();
        return true;
    }

    /// <summary>RFC 9110 section 9.2.2: the methods a request may be repeated with.</summary>
    private static bool IsIdempotent(ReadOnlySpan<byte> method)
        => method.SequenceEqual("GET"u8) || method.SequenceEqual("HEAD"u8) || method.SequenceEqual("OPTIONS"u8)
            || method.SequenceEqual("TRACE"u8) || method.SequenceEqual("PUT"u8) || method.SequenceEqual("DELETE"u8);
}
