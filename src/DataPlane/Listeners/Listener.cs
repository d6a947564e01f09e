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

    /// <summary>Runs the stream of an accepted connection to its end (never throws).</summary>
    Task HandleAsync(Socket client, Listener listener);
}

/// <summary>
/// One <c>bind</c>: a listening socket and its accept loop. Connections wait in the kernel
/// backlog while the frontend is at its maxconn, as in HAProxy. Pause stops accepting (the
/// socket stays bound); Stop closes it.
/// </summary>
internal sealed class Listener : IAsyncDisposable
{
    private readonly IConnectionHandler _handler;
    private readonly CancellationTokenSource _stop = new();
    private volatile TaskCompletionSource? _paused;
    private Socket? _socket;
    private Task? _loop;
    private long _accepted;

    public Listener(BindConfig bind, string name, IConnectionHandler handler)
    {
        Bind = bind;
        Name = name;
        _handler = handler;
    }

    public BindConfig Bind { get; }

    /// <summary>The listener's name (HAProxy's: "sock-N" unless named).</summary>
    public string Name { get; }

    /// <summary>The bound address (the real port when the bind asked for 0), kept after a stop.</summary>
    public IPEndPoint? LocalEndPoint { get; private set; }

    public long Accepted => Interlocked.Read(ref _accepted);

    /// <summary>The listener's own counters (HAProxy's per-listener stats): sessions and bytes.</summary>
    public HaLua.DataPlane.Stats.Counters Counters { get; } = new();

    public bool IsPaused => _paused is not null;

    /// <summary>Closed for good (<see cref="StopAsync"/>).</summary>
    public bool IsStopped => _stop.IsCancellationRequested;

    /// <summary>Binds and starts accepting; returns an error message naming the bind, or null.</summary>
    public string? Start()
    {
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
            s.Listen(1024);
            _socket = s;
            LocalEndPoint = s.LocalEndPoint as IPEndPoint;
        }
        catch (SocketException ex)
        {
            return $"{Bind.Location} : cannot bind socket [{ep}]: {ex.Message}";
        }

        _loop = Task.Run(AcceptLoopAsync);
        return null;
    }

    private async Task AcceptLoopAsync()
    {
        var ct = _stop.Token;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (_paused is { } p)
                {
                    await p.Task.WaitAsync(ct).ConfigureAwait(false);
                    continue;
                }

                await _handler.WaitForSlotAsync(ct).ConfigureAwait(false);
                var client = await _socket!.AcceptAsync(ct).ConfigureAwait(false);
                if (_paused is { } pausedMeanwhile)
                {
                    // The accept was already waiting when the pause came: the connection waits for the resume as if in the backlog.
                    try
                    {
                        await pausedMeanwhile.Task.WaitAsync(ct).ConfigureAwait(false);
                    }
                    catch (OperationCanceledException)
                    {
                        client.Dispose();
                        throw;
                    }
                }

                client.NoDelay = true;
                Interlocked.Increment(ref _accepted);
                _ = _handler.HandleAsync(client, this);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (ObjectDisposedException)
            {
                break;
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.ConnectionAborted or SocketError.ConnectionReset)
            {
                // a client gave up while in the backlog
            }
            catch (SocketException ex)
            {
                ProcessLog.Instance.Warning($"accept on {Bind.Endpoint}: {ex.Message}");
                await Task.Delay(10, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Stops accepting new connections; they wait in the backlog until <see cref="Resume"/>.</summary>
    public void Pause() => Interlocked.CompareExchange(ref _paused, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), null);

    public void Resume() => Interlocked.Exchange(ref _paused, null)?.TrySetResult();

    /// <summary>Closes the listening socket: no new connection; streams in flight go on.</summary>
    public async Task StopAsync()
    {
        _stop.Cancel();
        _socket?.Close();
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
