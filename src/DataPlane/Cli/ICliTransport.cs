using System.Net.Sockets;

namespace HaLua.DataPlane.Cli;

/// <summary>The bytes of one CLI session: a stats socket connection, or an admin API call.</summary>
internal interface ICliTransport
{
    /// <summary>Receives what is there (at least one byte), or 0 at the end of the input.</summary>
    ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken);

    ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken);
}

/// <summary>A stats socket connection (unix or TCP).</summary>
internal sealed class SocketCliTransport(Socket socket) : ICliTransport
{
    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException)
        {
            return 0;
        }
    }

    public async ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        while (!data.IsEmpty)
        {
            int n = await socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[n..];
        }
    }
}

/// <summary>An admin API call: the input messages (none for Execute) and the output stream.</summary>
internal sealed class CallbackCliTransport(IAsyncEnumerable<ReadOnlyMemory<byte>>? input, Func<ReadOnlyMemory<byte>, Task> output) : ICliTransport
{
    private IAsyncEnumerator<ReadOnlyMemory<byte>>? _input;
    private ReadOnlyMemory<byte> _pending;
    private bool _ended = input is null;

    public async ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (_pending.IsEmpty)
        {
            if (_ended)
            {
                return 0;
            }

            _input ??= input!.GetAsyncEnumerator(cancellationToken);
            if (!await _input.MoveNextAsync().ConfigureAwait(false))
            {
                _ended = true;
                return 0;
            }

            _pending = _input.Current;
        }

        int n = Math.Min(buffer.Length, _pending.Length);
        _pending[..n].CopyTo(buffer);
        _pending = _pending[n..];
        return n;
    }

    public async ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
        => await output(data).ConfigureAwait(false);
}
