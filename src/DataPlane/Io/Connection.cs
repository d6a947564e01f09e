using System.Net;
using System.Net.Sockets;

namespace HaLua.DataPlane.Io;

/// <summary>
/// One TCP connection of the data path. Receives and sends are awaited without blocking a thread;
/// on Linux they run on HaLua's own event loops (<see cref="EpollConnection"/>), elsewhere (or with
/// HALUA_IO=dotnet) on .NET's socket engine (<see cref="SocketConnection"/>). At most one receive and
/// one send are outstanding at a time.
/// </summary>
internal abstract class Connection
{
    /// <param name="readEndpoints">
    /// False for a socket whose non-blocking connect is in progress: asking .NET for its addresses
    /// then polls it and can consume the connect's error (SO_ERROR) before the loop sees it.
    /// </param>
    protected Connection(Socket socket, bool readEndpoints = true)
    {
        Socket = socket;
        if (readEndpoints)
        {
            Remote = socket.RemoteEndPoint as IPEndPoint;
            Local = socket.LocalEndPoint as IPEndPoint;
        }
    }

    /// <summary>The socket, for options (TOS, mark) and addresses; its I/O goes through this class.</summary>
    public Socket Socket { get; }

    public IPEndPoint? Remote { get; protected set; }

    public IPEndPoint? Local { get; protected set; }

    /// <summary>Receives what is there (at least one byte), or 0 at the end of the peer's stream.</summary>
    public abstract ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default);

    /// <summary>Sends all of <paramref name="data"/>.</summary>
    public abstract ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default);

    /// <summary>
    /// For an idle connection (no receive pending): false when it cannot carry another request,
    /// because the peer closed or reset it, or sent bytes nobody asked for.
    /// </summary>
    public virtual bool IsIdleUsable()
    {
        try
        {
            // Readable while idle means a FIN, a reset or unasked data.
            return !Socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Half-close: a FIN after what is queued; receiving goes on.</summary>
    public void ShutdownSend()
    {
        try
        {
            Socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // the peer is already gone
        }
    }

    /// <summary>Ends the connection: a FIN after what is queued (normal end), or a reset (<paramref name="abort"/>: error, timeout).</summary>
    public void Close(bool abort)
    {
        if (!BeginClose())
        {
            return;
        }

        try
        {
            if (abort)
            {
                Socket.LingerState = new LingerOption(true, 0);
            }
            else
            {
                Socket.Shutdown(SocketShutdown.Both);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // already closed by the peer
        }

        Socket.Close();
    }

    /// <summary>Stops the connection's pending operations; false when it was already closed.</summary>
    protected abstract bool BeginClose();

    /// <summary>An accepted socket, on the event loop of <paramref name="worker"/>.</summary>
    public static Connection Accepted(Socket socket, int worker)
    {
        socket.NoDelay = true;
        return EventLoops.Enabled ? new EpollConnection(socket, EventLoops.For(worker), connecting: false) : new SocketConnection(socket);
    }

    /// <summary>Connects to <paramref name="endpoint"/>; a timeout is a cancellation of <paramref name="cancellationToken"/>.</summary>
    public static async ValueTask<Connection> ConnectAsync(IPEndPoint endpoint, int worker, CancellationToken cancellationToken)
    {
        var s = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (!EventLoops.Enabled)
            {
                await s.ConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
                return new SocketConnection(s);
            }

            s.Blocking = false;
            bool pending = false;
            try
            {
                s.Connect(endpoint);
            }
            catch (SocketException ex) when (ex.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress or SocketError.AlreadyInProgress)
            {
                pending = true;
            }

            var c = new EpollConnection(s, EventLoops.For(worker), connecting: pending);
            try
            {
                if (pending)
                {
                    await c.CompleteConnectAsync(endpoint, cancellationToken).ConfigureAwait(false);
                }
            }
            catch
            {
                c.Close(abort: true);
                throw;
            }

            return c;
        }
        catch when (!s.Connected)
        {
            s.Dispose();
            throw;
        }
    }
}

/// <summary>A connection on .NET's own socket engine (non-Linux machines, HALUA_IO=dotnet).</summary>
internal sealed class SocketConnection(Socket socket) : Connection(socket)
{
    private int _closed;

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => Socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken);

    public override async ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        while (!data.IsEmpty)
        {
            int n = await Socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[n..];
        }
    }

    protected override bool BeginClose() => Interlocked.Exchange(ref _closed, 1) == 0;
}
