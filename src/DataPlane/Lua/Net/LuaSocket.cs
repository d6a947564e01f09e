using System.Buffers;
using System.Net;

namespace HaLua.DataPlane.Lua.Net;

/// <summary>What a socket operation came to.</summary>
internal enum SocketStatus
{
    /// <summary>Finished well.</summary>
    Done,

    /// <summary>Not yet: the execution's waiter is set, the script yields and calls again.</summary>
    Wait,

    /// <summary>The connection could not be made.</summary>
    Failed,

    /// <summary>The socket's timeout ran out.</summary>
    TimedOut,

    /// <summary>Not connected, closed by the script, or the peer went away.</summary>
    Closed,
}

/// <summary>
/// The C# object behind a Lua Socket (<c>core.tcp()</c>): a LuaSocket-style client connection.
/// Every operation is started by a call from the script and, when it cannot finish at once, sets
/// the execution's waiter and asks the script to yield; the script then calls again
/// (<c>again</c>) until it is done. No thread ever waits. All calls come from Lua under the
/// state's gate; I/O completions only complete tasks.
/// </summary>
internal sealed class LuaSocket : IDisposable
{
    /// <summary>How long a connect may take when the script set no timeout.</summary>
    private static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(5);

    private SocketInput? _input;
    private readonly IoWait _connectWait = new();
    private readonly IoWait _readWait = new();
    private readonly IoWait _writeWait = new();
    private OutboundConnection? _connection;
    private Task<OutboundConnection>? _connecting;
    private CancellationTokenSource? _connectCancel;
    private Task<int>? _read;
    private Task? _write;
    private byte[]? _writeBuffer;
    private LuaExecution? _owner;
    private bool _closed;

    /// <summary>settimeout's value; null: operations wait as long as they take.</summary>
    public TimeSpan? Timeout { get; set; }

    /// <summary>"ip:port" of the server once connected (kept after a close, as HAProxy shows it).</summary>
    public string? Peer { get; private set; }

    /// <summary>"ip:port" of our end once connected.</summary>
    public string? Local { get; private set; }

    public bool Connected => _connection is not null && !_closed;

    /// <summary>Starts connecting (closing any previous connection first); <paramref name="tls"/>: then a TLS handshake, certificate unchecked.</summary>
    public SocketStatus StartConnect(EndPoint target, bool tls, int worker, LuaExecution exec)
    {
        Disconnect();
        _closed = false;
        // A zero timeout means "do not wait" for I/O; a connect always needs a moment (HAProxy connects too).
        _connectWait.Begin(Timeout is { } t && t > TimeSpan.Zero ? t : DefaultConnectTimeout);
        _connectCancel = new CancellationTokenSource();
        _connecting = OutboundConnection.ConnectAsync(target, tls, sniHost: null, verifyHost: null, worker, _connectCancel.Token);

        // Closed with the execution that connected it, unless the script closes it first.
        if (_owner != exec)
        {
            _owner?.Untrack(this);
            _owner = exec;
            exec.Track(this);
        }

        return PollConnect(exec);
    }

    public SocketStatus PollConnect(LuaExecution exec)
    {
        if (_connecting is not { } connecting)
        {
            return _connection is null ? SocketStatus.Failed : SocketStatus.Done;
        }

        if (connecting.IsCompleted)
        {
            _connecting = null;
            _connectCancel?.Dispose();
            _connectCancel = null;
            if (!connecting.IsCompletedSuccessfully)
            {
                return SocketStatus.Failed;
            }

            _connection = connecting.Result;
            _input = new SocketInput();
            Peer = _connection.Peer;
            Local = _connection.Local;
            return SocketStatus.Done;
        }

        if (_connectWait.Expired)
        {
            AbandonConnect();
            return SocketStatus.TimedOut;
        }

        _connectWait.Pending = connecting;
        exec.Waiter = _connectWait;
        return SocketStatus.Wait;
    }

    /// <summary>Sends <paramref name="data"/> (all of it, or an error).</summary>
    public SocketStatus StartSend(ReadOnlySpan<byte> data, LuaExecution exec)
    {
        if (_connection is not { } c || _closed)
        {
            return SocketStatus.Closed;
        }

        if (_write is not null)
        {
            throw new Interop.LuaArgumentException("Socket.send: another send is still in progress on this socket");
        }

        _writeWait.Begin(Timeout);
        var buffer = ArrayPool<byte>.Shared.Rent(data.Length);
        data.CopyTo(buffer);
        var pending = c.Stream.WriteAsync(buffer.AsMemory(0, data.Length));
        if (pending.IsCompletedSuccessfully)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return SocketStatus.Done;
        }

        _write = pending.AsTask();
        _writeBuffer = buffer;
        return PollSend(exec);
    }

    public SocketStatus PollSend(LuaExecution exec)
    {
        if (_write is not { } write)
        {
            return _closed ? SocketStatus.Closed : SocketStatus.Done;
        }

        if (write.IsCompleted)
        {
            _write = null;
            if (_writeBuffer is { } b)
            {
                ArrayPool<byte>.Shared.Return(b);
                _writeBuffer = null;
            }

            if (write.IsCompletedSuccessfully)
            {
                return SocketStatus.Done;
            }

            Close();
            return SocketStatus.Closed;
        }

        if (_writeWait.Expired)
        {
            // How much of it left is unknown: the connection cannot be used any more (HAProxy's
            // stream ends on a timeout too).
            Close();
            return SocketStatus.TimedOut;
        }

        _writeWait.Pending = write;
        exec.Waiter = _writeWait;
        return SocketStatus.Wait;
    }

    /// <summary>
    /// One step of a receive: the result is <paramref name="length"/> bytes at the front of
    /// <see cref="Buffered"/> (for Data and Timeout), to be taken with <see cref="Consume"/>.
    /// <paramref name="again"/>: a call after a wait, which keeps the first call's deadline.
    /// </summary>
    public ReceiveStatus Receive(ReceivePattern pattern, bool again, LuaExecution exec, out int length, out int consume)
    {
        if (!again)
        {
            _readWait.Begin(Timeout);
        }

        while (true)
        {
            if (_connection is not { } c || _input is not { } input || _closed)
            {
                length = consume = 0;
                return ReceiveStatus.Closed;
            }

            HarvestRead(input);
            var status = input.Next(pattern, expired: false, out length, out consume);
            if (status != ReceiveStatus.NeedMore)
            {
                return status;
            }

            if (_read is null)
            {
                StartRead(c, input);
                if (_read is null || _read.IsCompleted)
                {
                    continue;
                }
            }

            if (_readWait.Expired)
            {
                return input.Next(pattern, expired: true, out length, out consume);
            }

            _readWait.Pending = _read;
            exec.Waiter = _readWait;
            return ReceiveStatus.NeedMore;
        }
    }

    public ReadOnlySpan<byte> Buffered => _input is { } input ? input.Data : default;

    public void Consume(int n) => _input?.Consume(n);

    private void StartRead(OutboundConnection c, SocketInput input)
    {
        var memory = input.PrepareRead();
        ValueTask<int> pending;
        try
        {
            pending = c.Stream.ReadAsync(memory);
        }
        catch (Exception)
        {
            input.Eof = true;
            return;
        }

        if (pending.IsCompletedSuccessfully)
        {
            Received(input, pending.Result);
        }
        else
        {
            _read = pending.AsTask();
        }
    }

    private void HarvestRead(SocketInput input)
    {
        if (_read is not { IsCompleted: true } read)
        {
            return;
        }

        _read = null;

        // A reset or any failure ends the input as a close does: what arrived before stays readable.
        Received(input, read.IsCompletedSuccessfully ? read.Result : 0);
    }

    private static void Received(SocketInput input, int n)
    {
        if (n == 0)
        {
            input.Eof = true;
        }
        else
        {
            input.Commit(n);
        }
    }

    /// <summary>The script's close (or the end of its execution, or the garbage collector): no further use.</summary>
    public void Close()
    {
        Disconnect();
        _closed = true;
        _owner?.Untrack(this);
        _owner = null;
    }

    private void Disconnect()
    {
        AbandonConnect();
        bool readPending = _read is { IsCompleted: false };
        _connection?.Dispose();
        _connection = null;
        _read = null;
        _write = null;

        // A send that did not finish may still read its buffer: left to the garbage collector.
        _writeBuffer = null;
        _input?.Release(readPending);
        _input = null;
    }

    private void AbandonConnect()
    {
        if (_connecting is not { } connecting)
        {
            return;
        }

        _connecting = null;
        _connectCancel?.Cancel();
        _connectCancel?.Dispose();
        _connectCancel = null;

        // Should it succeed after all, nobody will use it.
        _ = connecting.ContinueWith(static t => t.Result.Dispose(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    public void Dispose() => Close();
}
