using System.Net;
using System.Net.Sockets;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Logging;

namespace HaLua.DataPlane.Listeners;

/// <summary>Receives accepted connections of a listener (a frontend).</summary>
internal interface IConnectionHandler
{
    /// <summary>Waits until the frontend may take one more connection (its maxconn).</summary>
    ValueTask WaitForSlotAsync(CancellationToken cancellationToken);

    /// <summary>Gives back a slot taken by <see cref="WaitForSlotAsync"/> when no connection came with it.</summary>
    void ReleaseSlot();

    /// <summary>Runs the stream of an accepted connection to its end (never throws).</summary>
    Task HandleAsync(Socket client, Listener listener);
}

/// <summary>What a listener does with new connections.</summary>
internal enum ListenerState { Ready, Paused, Stopped }

/// <summary>
/// One <c>bind</c>: a listening socket and its accept loop. Connections wait in the kernel
/// backlog while the frontend is at its maxconn, as in HAProxy. Pause stops listening as HAProxy
/// does (new connections are refused, the socket stays bound so that resume listens again); Stop
/// closes it for good.
/// </summary>
internal sealed class Listener : IAsyncDisposable
{
    private const int Backlog = 1024;

    private readonly CancellationTokenSource _stop = new();
    private readonly object _stateLock = new();
    private volatile TaskCompletionSource? _paused;
    private volatile ListenerState _state;
    private IConnectionHandler? _handler;
    private Socket? _socket;
    private Task? _loop;
    private long _accepted;

    /// <param name="id">HAProxy's luid: 1-based order in its frontend (the stats' sid).</param>
    public Listener(BindConfig bind, string name, int id = 1)
    {
        Bind = bind;
        Name = name;
        Id = id;
    }

    public BindConfig Bind { get; }

    /// <summary>The listener's name (HAProxy's: "sock-N" unless named).</summary>
    public string Name { get; }

    public int Id { get; }

    /// <summary>The bound address (the real port when the bind asked for 0), kept after a stop.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>The listener's own counters (HAProxy's per-listener stats): sessions and bytes.</summary>
    public HaLua.DataPlane.Stats.Counters Counters { get; } = new();

    public bool IsPaused => _paused is not null;

    public ListenerState State => _state;

    /// <summary>Closed for good (<see cref="Stop"/>).</summary>
    public bool IsStopped => _state == ListenerState.Stopped;

    /// <summary>Binds and starts accepting; returns an error message naming the bind, or null.</summary>
    public string? Start(IConnectionHandler handler)
    {
        _handler = handler;
        var ep = Bind.Endpoint;
        try
        {
            var s = new Socket(ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            if (ep.AddressFamily == AddressFamily.InterNetworkV6 && ep.Address.Equals(IPAddress.IPv6Any))
            {
                s.DualMode = true;
            }

            s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            s.Bind(ep);
            s.Listen(Backlog);
            _socket = s;
            LocalEndPoint = s.LocalEndPoint as IPEndPoint;
        }
        catch (SocketException ex)
        {
            return $"{Bind.Location} : cannot bind socket [{ep}]: {ex.Message}";
        }

        lock (_stateLock)
        {
            // Paused or stopped before it started (a Lua init function did it).
            if (_state == ListenerState.Paused)
            {
                StopListening();
            }
            else if (_state == ListenerState.Stopped)
            {
                _socket.Close();
                return null;
            }
        }

        _loop = Task.Run(AcceptLoopAsync);
        return null;
    }

    private async Task AcceptLoopAsync()
    {
        var ct = _stop.Token;
        var handler = _handler!;
        while (!ct.IsCancellationRequested)
        {
            if (_paused is { } p)
            {
                try
                {
                    await p.Task.WaitAsync(ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                continue;
            }

            try
            {
                await handler.WaitForSlotAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            Socket client;
            try
            {
                client = await _socket!.AcceptAsync(ct).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                handler.ReleaseSlot();
                if (ex is OperationCanceledException or ObjectDisposedException || _state == ListenerState.Stopped)
                {
                    break;
                }

                if (_paused is not null)
                {
                    // A pause stopped the listening socket under a pending accept.
                    continue;
                }

                if (ex is SocketException { SocketErrorCode: not (SocketError.ConnectionAborted or SocketError.ConnectionReset) } se)
                {
                    // A client that gave up in the backlog is normal; anything else is worth a line.
                    ProcessLog.Instance.Warning($"accept on {Bind.Endpoint}: {se.Message}");
                    await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
                }

                continue;
            }

            client.NoDelay = true;
            Interlocked.Increment(ref _accepted);
            Interlocked.Increment(ref HaLua.DataPlane.Stats.ProcessCounters.CumulatedConnections);
            HaLua.DataPlane.Stats.ProcessCounters.ConnectionRate.Add();
            _ = handler.HandleAsync(client, this);
        }
    }

    /// <summary>
    /// Stops accepting new connections: the socket stops listening (new connections are refused,
    /// those waiting in the backlog are reset) but stays bound, as HAProxy pauses a listener.
    /// False when it was not ready (already paused, or stopped).
    /// </summary>
    public bool Pause()
    {
        lock (_stateLock)
        {
            if (_state != ListenerState.Ready)
            {
                return false;
            }

            _state = ListenerState.Paused;
            _paused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            StopListening();
            return true;
        }
    }

    /// <summary>Listens again after <see cref="Pause"/>; false when it was not paused.</summary>
    public bool Resume()
    {
        lock (_stateLock)
        {
            if (_state != ListenerState.Paused)
            {
                return false;
            }

            _state = ListenerState.Ready;
            try
            {
                _socket?.Listen(Backlog);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                ProcessLog.Instance.Warning($"cannot resume listening on {Bind.Endpoint}: {ex.Message}");
            }

            Interlocked.Exchange(ref _paused, null)?.TrySetResult();
            return true;
        }
    }

    /// <summary>
    /// Linux stops a listening socket on a receive shutdown and leaves it bound to its port (HAProxy
    /// pauses the same way); a socket on an ephemeral port would lose it, so that one only stops
    /// accepting.
    /// </summary>
    private void StopListening()
    {
        if (_socket is { } s && Bind.Endpoint.Port != 0)
        {
            try
            {
                s.Shutdown(SocketShutdown.Receive);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // already closed
            }
        }
    }

    /// <summary>
    /// Closes the listening socket for good: no new connection; streams in flight go on. Returns at
    /// once (safe from a Lua callback); <see cref="StopAsync"/> also waits for the accept loop.
    /// False when it was already stopped.
    /// </summary>
    public bool Stop()
    {
        lock (_stateLock)
        {
            if (_state == ListenerState.Stopped)
            {
                return false;
            }

            _state = ListenerState.Stopped;
            _socket?.Close();
            _ = _stop.CancelAsync();
            Interlocked.Exchange(ref _paused, null)?.TrySetResult();
            return true;
        }
    }

    /// <summary>Closes the listening socket and waits for the accept loop to end.</summary>
    public async Task StopAsync()
    {
        Stop();
        if (_loop is not null)
        {
            await _loop.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stop.Dispose();
    }
}
