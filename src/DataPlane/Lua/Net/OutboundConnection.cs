using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using HaLua.DataPlane.Io;

namespace HaLua.DataPlane.Lua.Net;

/// <summary>
/// A connection Lua opened to a server (Socket.connect, the httpclient): on the worker's event
/// loop like the proxy's own server connections, TLS through <see cref="SslStream"/>. Its bytes
/// go through <see cref="Stream"/> (the connection itself, or the TLS stream over it).
/// </summary>
internal sealed class OutboundConnection : IDisposable
{
    private OutboundConnection(Connection connection, Stream stream, EndPoint remote)
    {
        Connection = connection;
        Stream = stream;
        Peer = TargetAddress.Display(remote);
        Local = TargetAddress.Display(connection.Socket.LocalEndPoint);
    }

    public Connection Connection { get; }

    public Stream Stream { get; }

    /// <summary>"ip:port" of the server ("unix" for a UNIX socket).</summary>
    public string Peer { get; }

    /// <summary>"ip:port" of our end.</summary>
    public string Local { get; }

    /// <summary>
    /// Connects to <paramref name="target"/> on the event loop of <paramref name="worker"/>, then
    /// runs the TLS handshake when <paramref name="tls"/> is set. <paramref name="verifyHost"/>:
    /// the name the server's certificate must match, or null to accept any certificate (as
    /// HAProxy's Lua sockets do).
    /// </summary>
    public static async Task<OutboundConnection> ConnectAsync(EndPoint target, bool tls, string? sniHost, string? verifyHost, int worker, CancellationToken cancellationToken)
    {
        var connection = target is IPEndPoint ip
            ? await Connection.ConnectAsync(ip, worker, cancellationToken).ConfigureAwait(false)
            : ConnectLocal(target, worker);
        if (!tls)
        {
            return new OutboundConnection(connection, new ConnectionStream(connection), target);
        }

        var ssl = new SslStream(new ConnectionStream(connection), leaveInnerStreamOpen: false);
        try
        {
            var options = new SslClientAuthenticationOptions
            {
                // An IP address is never sent as SNI; a name is, and is what a verified certificate must match.
                TargetHost = verifyHost ?? sniHost ?? "",
            };
            if (verifyHost is null)
            {
                options.RemoteCertificateValidationCallback = static (_, _, _, _) => true;
            }

            await ssl.AuthenticateAsClientAsync(options, cancellationToken).ConfigureAwait(false);
            return new OutboundConnection(connection, ssl, target);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A UNIX socket: its connect completes at once (or fails), so no wait on the loop.</summary>
    private static Connection ConnectLocal(EndPoint target, int worker)
    {
        var s = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            s.Blocking = false;
            s.Connect(target);
            return EventLoops.Enabled ? new EpollConnection(s, EventLoops.For(worker), connecting: false) : new SocketConnection(s);
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }

    public void Dispose() => Stream.Dispose();
}

/// <summary>A <see cref="Connection"/> as a <see cref="Stream"/> (what <see cref="SslStream"/> reads and writes).</summary>
internal sealed class ConnectionStream(Connection connection) : Stream
{
    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => connection.ReceiveAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => connection.ReceiveAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        => connection.SendAsync(buffer, cancellationToken);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => connection.SendAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public override void Flush()
    {
    }

    // Lua's connections never block a thread: only the asynchronous calls are served.
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            connection.Close(abort: false);
        }

        base.Dispose(disposing);
    }
}
