using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace HaLua.DataPlane.Io;

/// <summary>
/// A connection on an <see cref="EventLoop"/>. Each direction keeps a "ready" flag: set by an epoll
/// event, cleared when a receive comes back short or with EAGAIN (the socket is drained) or a send
/// comes back partial (the socket buffer is full). While ready, an operation is a plain system call
/// on the caller's thread; otherwise it waits, and the loop completes it on the next event and runs
/// its continuation inline. Each event bumps a sequence number so that an event arriving during a
/// system call is never lost.
/// </summary>
internal sealed class EpollConnection : Connection, IValueTaskSource<int>, IValueTaskSource
{
    private readonly EventLoop _loop;
    private readonly SafeSocketHandle _fd;
    private readonly int _fdNumber;
    private readonly GCHandle _handle;
    private readonly Lock _sync = new();
    private volatile bool _closed;
    private bool _connecting;

    // Readiness of each direction: bit 0 = ready, the rest = a sequence number bumped by every
    // epoll event. Cleared by compare-and-swap against the value seen before the system call, so
    // an event that arrives meanwhile is never lost; the lock only guards parking and completing.
    private int _rcvState = 1;
    private int _sndState;

    private ManualResetValueTaskSourceCore<int> _rcv;
    private volatile bool _rcvHangUp;
    private bool _rcvPending;
    private Memory<byte> _rcvBuffer;
    private CancellationToken _rcvToken;
    private CancellationTokenRegistration _rcvRegistration;

    private ManualResetValueTaskSourceCore<bool> _snd;
    private bool _sndPending;
    private ReadOnlyMemory<byte> _sndData;
    private CancellationToken _sndToken;
    private CancellationTokenRegistration _sndRegistration;

    public EpollConnection(Socket socket, EventLoop loop, bool connecting)
        : base(socket, readEndpoints: !connecting)
    {
        _loop = loop;
        socket.Blocking = false;
        _fd = socket.SafeHandle;
        _fdNumber = (int)_fd.DangerousGetHandle();
        _connecting = connecting;
        _sndState = connecting ? 0 : 1;
        _handle = GCHandle.Alloc(this);
        try
        {
            loop.Add(_fdNumber, _handle);
        }
        catch
        {
            _handle.Free();
            throw;
        }
    }

    /// <summary>Waits until a non-blocking connect started by the caller succeeds or fails.</summary>
    public async ValueTask CompleteConnectAsync(IPEndPoint endpoint, CancellationToken cancellationToken)
    {
        await SendAsync(ReadOnlyMemory<byte>.Empty, cancellationToken).ConfigureAwait(false);
        int errno = Sys.PendingError(_fd);
        if (errno != 0)
        {
            throw new SocketException((int)Sys.ToSocketError(errno));
        }

        Remote = endpoint;
        Local = Socket.LocalEndPoint as IPEndPoint;
    }

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            int state = Volatile.Read(ref _rcvState);
            if ((state & 1) == 0)
            {
                lock (_sync)
                {
                    if (_closed)
                    {
                        return ValueTask.FromException<int>(Aborted());
                    }

                    if ((_rcvState & 1) != 0)
                    {
                        continue;
                    }

                    if (cancellationToken.IsCancellationRequested)
                    {
                        return ValueTask.FromCanceled<int>(cancellationToken);
                    }

                    _rcv.Reset();
                    ParkReceive(buffer, cancellationToken);
                    return new ValueTask<int>(this, _rcv.Version);
                }
            }

            if (_closed)
            {
                return ValueTask.FromException<int>(Aborted());
            }

            int n = Recv(buffer.Span, out int errno);
            if (n >= 0)
            {
                // A short read drained the socket, unless the peer's FIN is pending: after it no
                // new event comes, so the next receive must not wait.
                if (n > 0 && n < buffer.Length && !_rcvHangUp)
                {
                    Interlocked.CompareExchange(ref _rcvState, state & ~1, state);
                }

                return new ValueTask<int>(n);
            }

            if (errno == Sys.EAGAIN)
            {
                Interlocked.CompareExchange(ref _rcvState, state & ~1, state);
            }
            else if (errno != Sys.EINTR)
            {
                return ValueTask.FromException<int>(new SocketException((int)Sys.ToSocketError(errno)));
            }
        }
    }

    public override bool IsIdleUsable()
    {
        if (_closed || _rcvHangUp)
        {
            return false;
        }

        // No event since a read drained the socket: nothing came, not even a FIN (no system call).
        return (Volatile.Read(ref _rcvState) & 1) == 0 || base.IsIdleUsable();
    }

    public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            int state = Volatile.Read(ref _sndState);

            // No system call for nothing: in particular a finished connect must leave its error
            // to SO_ERROR (a send would consume it).
            if (data.IsEmpty && (!_connecting || (state & 1) != 0))
            {
                _connecting = false;
                return ValueTask.CompletedTask;
            }

            if ((state & 1) == 0)
            {
                lock (_sync)
                {
                    if (_closed)
                    {
                        return ValueTask.FromException(Aborted());
                    }

                    if ((_sndState & 1) != 0)
                    {
                        continue;
                    }

                    if (cancellationToken.IsCancellationRequested)
                    {
                        return ValueTask.FromCanceled(cancellationToken);
                    }

                    _snd.Reset();
                    ParkSend(data, cancellationToken);
                    return new ValueTask(this, _snd.Version);
                }
            }

            if (_closed)
            {
                return ValueTask.FromException(Aborted());
            }

            int n = SendSome(data.Span, out int errno);
            if (n >= 0)
            {
                data = data[n..];
                if (data.IsEmpty)
                {
                    return ValueTask.CompletedTask;
                }

                Interlocked.CompareExchange(ref _sndState, state & ~1, state);
            }
            else if (errno == Sys.EAGAIN)
            {
                Interlocked.CompareExchange(ref _sndState, state & ~1, state);
            }
            else if (errno != Sys.EINTR)
            {
                return ValueTask.FromException(new SocketException((int)Sys.ToSocketError(errno)));
            }
        }
    }

    /// <summary>Called by the loop with the events epoll reported for this socket.</summary>
    internal void OnEvents(uint events)
    {
        if ((events & (Sys.EPOLLIN | Sys.EPOLLRDHUP | Sys.EPOLLHUP | Sys.EPOLLERR)) != 0)
        {
            OnReadable((events & (Sys.EPOLLRDHUP | Sys.EPOLLHUP | Sys.EPOLLERR)) != 0);
        }

        if ((events & (Sys.EPOLLOUT | Sys.EPOLLHUP | Sys.EPOLLERR)) != 0)
        {
            OnWritable();
        }
    }

    /// <summary>An event: ready, with a new sequence number.</summary>
    private static void Bump(ref int state)
    {
        int s;
        do
        {
            s = Volatile.Read(ref state);
        }
        while (Interlocked.CompareExchange(ref state, (s | 1) + 2, s) != s);
    }

    private void OnReadable(bool hangUp)
    {
        Memory<byte> buffer;
        lock (_sync)
        {
            if (hangUp)
            {
                _rcvHangUp = true;
            }

            Bump(ref _rcvState);
            if (!_rcvPending)
            {
                return;
            }

            _rcvPending = false;
            buffer = _rcvBuffer;
            _rcvBuffer = default;
            _rcvRegistration.Unregister();
            _rcvRegistration = default;
        }

        while (true)
        {
            int state = Volatile.Read(ref _rcvState);
            int n = Recv(buffer.Span, out int errno);
            if (n >= 0)
            {
                if (n > 0 && n < buffer.Length && !_rcvHangUp)
                {
                    Interlocked.CompareExchange(ref _rcvState, state & ~1, state);
                }

                _rcv.SetResult(n);
                return;
            }

            if (errno == Sys.EINTR)
            {
                continue;
            }

            if (errno != Sys.EAGAIN)
            {
                _rcv.SetException(new SocketException((int)Sys.ToSocketError(errno)));
                return;
            }

            // Spurious wake-up: wait again unless an event came meanwhile.
            Exception? fail = null;
            lock (_sync)
            {
                if (Interlocked.CompareExchange(ref _rcvState, state & ~1, state) != state)
                {
                    continue;
                }

                if (_closed)
                {
                    fail = Aborted();
                }
                else if (_rcvToken.IsCancellationRequested)
                {
                    fail = new OperationCanceledException(_rcvToken);
                }
                else
                {
                    ParkReceive(buffer, _rcvToken);
                }
            }

            if (fail is not null)
            {
                _rcv.SetException(fail);
            }

            return;
        }
    }

    private void OnWritable()
    {
        ReadOnlyMemory<byte> data;
        lock (_sync)
        {
            Bump(ref _sndState);
            if (!_sndPending)
            {
                return;
            }

            _sndPending = false;
            _connecting = false;
            data = _sndData;
            _sndData = default;
            _sndRegistration.Unregister();
            _sndRegistration = default;
        }

        while (!data.IsEmpty)
        {
            int state = Volatile.Read(ref _sndState);
            int n = SendSome(data.Span, out int errno);
            if (n >= 0)
            {
                data = data[n..];
                if (data.IsEmpty)
                {
                    break;
                }
            }
            else if (errno == Sys.EINTR)
            {
                continue;
            }
            else if (errno != Sys.EAGAIN)
            {
                _snd.SetException(new SocketException((int)Sys.ToSocketError(errno)));
                return;
            }

            Exception? fail = null;
            lock (_sync)
            {
                if (Interlocked.CompareExchange(ref _sndState, state & ~1, state) != state)
                {
                    continue;
                }

                if (_closed)
                {
                    fail = Aborted();
                }
                else if (_sndToken.IsCancellationRequested)
                {
                    fail = new OperationCanceledException(_sndToken);
                }
                else
                {
                    ParkSend(data, _sndToken);
                }
            }

            if (fail is not null)
            {
                _snd.SetException(fail);
            }

            return;
        }

        _snd.SetResult(true);
    }

    /// <summary>Under the lock: the receive waits for the loop (or its cancellation).</summary>
    private void ParkReceive(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        _rcvBuffer = buffer;
        _rcvToken = cancellationToken;
        _rcvPending = true;
        if (cancellationToken.CanBeCanceled)
        {
            _rcvRegistration = cancellationToken.UnsafeRegister(static s => ((EpollConnection)s!).CancelReceive(), this);
        }
    }

    private void ParkSend(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        _sndData = data;
        _sndToken = cancellationToken;
        _sndPending = true;
        if (cancellationToken.CanBeCanceled)
        {
            _sndRegistration = cancellationToken.UnsafeRegister(static s => ((EpollConnection)s!).CancelSend(), this);
        }
    }

    private void CancelReceive()
    {
        CancellationToken token;
        lock (_sync)
        {
            if (!_rcvPending)
            {
                return;
            }

            _rcvPending = false;
            _rcvBuffer = default;
            token = _rcvToken;
        }

        _rcv.SetException(new OperationCanceledException(token));
    }

    private void CancelSend()
    {
        CancellationToken token;
        lock (_sync)
        {
            if (!_sndPending)
            {
                return;
            }

            _sndPending = false;
            _sndData = default;
            token = _sndToken;
        }

        _snd.SetException(new OperationCanceledException(token));
    }

    protected override bool BeginClose()
    {
        bool rcv, snd;
        lock (_sync)
        {
            if (_closed)
            {
                return false;
            }

            _closed = true;
            rcv = _rcvPending;
            snd = _sndPending;
            _rcvPending = _sndPending = false;
            _rcvBuffer = default;
            _sndData = default;
        }

        _loop.Remove(_fdNumber, _handle);
        if (rcv)
        {
            _rcv.SetException(Aborted());
        }

        if (snd)
        {
            _snd.SetException(Aborted());
        }

        return true;
    }

    private static SocketException Aborted() => new((int)SocketError.OperationAborted);

    private unsafe int Recv(Span<byte> buffer, out int errno)
    {
        try
        {
            fixed (byte* p = buffer)
            {
                nint n = Sys.Recv(_fd, p, buffer.Length, 0);
                errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
                return (int)n;
            }
        }
        catch (ObjectDisposedException)
        {
            errno = 9;
            return -1;
        }
    }

    private unsafe int SendSome(ReadOnlySpan<byte> data, out int errno)
    {
        try
        {
            fixed (byte* p = data)
            {
                nint n = Sys.Send(_fd, p, data.Length, Sys.MSG_NOSIGNAL);
                errno = n < 0 ? Marshal.GetLastPInvokeError() : 0;
                return (int)n;
            }
        }
        catch (ObjectDisposedException)
        {
            errno = 9;
            return -1;
        }
    }

    int IValueTaskSource<int>.GetResult(short token) => _rcv.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _rcv.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _rcv.OnCompleted(continuation, state, token, flags);

    void IValueTaskSource.GetResult(short token) => _snd.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token) => _snd.GetStatus(token);

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _snd.OnCompleted(continuation, state, token, flags);
}
