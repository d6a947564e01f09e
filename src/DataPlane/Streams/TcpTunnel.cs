using System.Buffers;
using System.Net.Sockets;
using HaLua.DataPlane.Io;

namespace HaLua.DataPlane.Streams;

/// <summary>Byte counts of a finished tunnel.</summary>
internal readonly record struct TunnelResult(long ClientToServer, long ServerToClient, bool ClientAborted, bool ServerAborted);

/// <summary>
/// Moves bytes both ways between two connected sockets: back-pressure by awaiting each send
/// before the next receive, half-close forwarded (FIN on one side becomes a shutdown of the
/// other's send side), pooled buffers, no allocation per transfer.
/// </summary>
internal static class TcpTunnel
{
    private const int BufferSize = 16 * 1024;

    /// <param name="responseGate">
    /// Runs before the first byte goes from the server to the client while the client's bytes
    /// already flow to the server (tcp-response content rules); false ends the stream.
    /// </param>
    public static async Task<TunnelResult> RunAsync(Connection client, Connection server, IdleWatch idle, Action<long>? onClientBytes = null, Action<long>? onServerBytes = null, Func<Task<bool>>? responseGate = null)
    {
        var ct = idle.Token;
        var up = PumpAsync(client, server, idle, fromClient: true, onClientBytes, ct);
        var down = responseGate is null
            ? PumpAsync(server, client, idle, fromClient: false, onServerBytes, ct)
            : GatedAsync(responseGate, server, client, idle, onServerBytes, ct);
        var first = await Task.WhenAny(up, down).ConfigureAwait(false);
        var firstResult = await first.ConfigureAwait(false);
        if (firstResult.Aborted)
        {
            // An error on one side ends both: close the sockets to unblock the other pump. A stream
            // an operator killed (shut_sess) closes both sides cleanly, as HAProxy does.
            client.Close(abort: !idle.Killed);
            server.Close(abort: !idle.Killed);
        }

        var upResult = await up.ConfigureAwait(false);
        var downResult = await down.ConfigureAwait(false);
        return new TunnelResult(upResult.Bytes, downResult.Bytes, upResult.Aborted, downResult.Aborted);
    }

    private readonly record struct PumpResult(long Bytes, bool Aborted);

    private static async Task<PumpResult> GatedAsync(Func<Task<bool>> gate, Connection from, Connection to, IdleWatch idle, Action<long>? onBytes, CancellationToken ct)
    {
        bool open;
        try
        {
            open = await gate().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            open = false;
        }

        if (!open)
        {
            // Rejected or done: the client gets what was sent to it, then the end of the stream.
            to.Close(abort: false);
            return new PumpResult(0, false);
        }

        return await PumpAsync(from, to, idle, fromClient: false, onBytes, ct).ConfigureAwait(false);
    }

    private static async Task<PumpResult> PumpAsync(Connection from, Connection to, IdleWatch idle, bool fromClient, Action<long>? onBytes, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        long total = 0;
        try
        {
            while (true)
            {
                int n = await from.ReceiveAsync(buffer.AsMemory(), ct).ConfigureAwait(false);
                if (n == 0)
                {
                    to.ShutdownSend();

                    return new PumpResult(total, false);
                }

                if (fromClient)
                {
                    idle.ClientActivity();
                }
                else
                {
                    idle.ServerActivity();
                }

                await to.SendAsync(buffer.AsMemory(0, n), ct).ConfigureAwait(false);
                total += n;
                onBytes?.Invoke(n);
            }
        }
        catch (Exception ex) when (ex is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            return new PumpResult(total, true);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
