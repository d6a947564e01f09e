using System.Buffers;
using System.Runtime.CompilerServices;
using System.Net;
using System.Net.Sockets;
using HaLua.DataPlane.Io;

namespace HaLua.DataPlane.Lua.Applets;

/// <summary>
/// The client side of a Lua TCP service (AppletTCP): buffered input read on demand when the
/// script waits, and output batched per resume slice (one send per yield, as HAProxy flushes
/// its channel when the applet yields).
/// </summary>
internal sealed class TcpApplet : ILuaWaitable, ILuaSliceOwner, ITcpAppletIo, IDisposable
{
    /// <summary>Output above this makes applet:send wait for the client to take it (back-pressure).</summary>
    private const int OutputHighWater = 64 * 1024;
    private const int InitialBuffer = 16 * 1024;

    private readonly Connection _socket;
    private readonly HaLua.DataPlane.Streams.IdleWatch? _idle;
    private byte[] _in;
    private int _inStart;
    private int _inEnd;
    private byte[] _out;
    private int _outLen;
    private bool _waitForFlushOnly;

    /// <param name="idle">The stream's inactivity tracking (timeout client); reads count as client activity.</param>
    public TcpApplet(Connection socket, HaLua.DataPlane.Streams.IdleWatch? idle)
    {
        _socket = socket;
        _idle = idle;
        _in = ArrayPool<byte>.Shared.Rent(InitialBuffer);
        _out = ArrayPool<byte>.Shared.Rent(InitialBuffer);
    }

    public bool InputClosed { get; private set; }

    public long BytesIn { get; private set; }

    public long BytesOut { get; private set; }

    public IPEndPoint? Remote => _socket.Remote;

    public IPEndPoint? Local => _socket.Local;

    public ReadOnlySpan<byte> Input => _in.AsSpan(_inStart, _inEnd - _inStart);

    public void Consume(int n) => _inStart += n;

    /// <summary>Input that arrived before the applet started (read by earlier rules).</summary>
    public void Prepend(ReadOnlySpan<byte> data)
    {
        PooledBytes.Grow(ref _in, _inEnd, _inEnd + data.Length);

        _in.AsSpan(_inStart, _inEnd - _inStart).CopyTo(_in.AsSpan(_inStart + data.Length));
        data.CopyTo(_in.AsSpan(_inStart));
        _inEnd += data.Length;
    }

    /// <summary>Registers "wait for more input" as what the execution waits for.</summary>
    public void WaitForInput(LuaExecution exec)
    {
        _waitForFlushOnly = false;
        exec.Waiter = this;
    }

    /// <summary>Appends to the output; true when the script should wait for the client to drain it.</summary>
    public bool Send(ReadOnlySpan<byte> data, LuaExecution exec)
    {
        PooledBytes.Grow(ref _out, _outLen, _outLen + data.Length);

        data.CopyTo(_out.AsSpan(_outLen));
        _outLen += data.Length;
        if (_outLen >= OutputHighWater)
        {
            _waitForFlushOnly = true;
            exec.Waiter = this;
            return true;
        }

        return false;
    }

    /// <summary>Sends what the slice produced; synchronous (no state machine) when the socket takes it at once.</summary>
    public ValueTask AfterSliceAsync()
    {
        if (_outLen == 0)
        {
            return ValueTask.CompletedTask;
        }

        int n = _outLen;
        _outLen = 0;
        var pending = _socket.SendAsync(_out.AsMemory(0, n));
        if (pending.IsCompletedSuccessfully)
        {
            pending.GetAwaiter().GetResult();
            BytesOut += n;
            return ValueTask.CompletedTask;
        }

        return AwaitSendAsync(pending, n);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitSendAsync(ValueTask pending, int n)
    {
        try
        {
            await pending.ConfigureAwait(false);
            BytesOut += n;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            // The client went away: the next read sees the end of the stream.
            InputClosed = true;
        }
    }

    /// <summary>Reads more input; synchronous when data is already there.</summary>
    public ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        if (_waitForFlushOnly || InputClosed)
        {
            // AfterSliceAsync already sent everything; or nothing more will come.
            return ValueTask.CompletedTask;
        }

        if (_inStart > 0)
        {
            Buffer.BlockCopy(_in, _inStart, _in, 0, _inEnd - _inStart);
            _inEnd -= _inStart;
            _inStart = 0;
        }

        // A full buffer doubles: the script waits for more than it holds.
        PooledBytes.Grow(ref _in, _inEnd, _inEnd + 1);

        var pending = _socket.ReceiveAsync(_in.AsMemory(_inEnd), cancellationToken);
        if (pending.IsCompletedSuccessfully)
        {
            Received(pending.GetAwaiter().GetResult());
            return ValueTask.CompletedTask;
        }

        return AwaitReceiveAsync(pending);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitReceiveAsync(ValueTask<int> pending)
    {
        int n;
        try
        {
            n = await pending.ConfigureAwait(false);
        }
        catch (SocketException)
        {
            n = 0;
        }

        Received(n);
    }

    private void Received(int n)
    {
        if (n == 0)
        {
            InputClosed = true;
        }
        else
        {
            _inEnd += n;
            BytesIn += n;
            _idle?.ClientActivity();
        }
    }

    public void Dispose()
    {
        ArrayPool<byte>.Shared.Return(_in);
        ArrayPool<byte>.Shared.Return(_out);
    }
}
