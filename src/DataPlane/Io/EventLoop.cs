using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using HaLua.DataPlane.Logging;

namespace HaLua.DataPlane.Io;

/// <summary>
/// One event loop: a thread waiting on an epoll set (edge-triggered) and running the completions
/// of its connections inline, as HAProxy's thread runs its streams. A connection's I/O is tried at
/// once when the socket is known ready and waits for the loop otherwise, so no system call is
/// spent on a socket that has nothing to give.
/// </summary>
internal sealed unsafe class EventLoop
{
    private const int MaxEvents = 256;

    private readonly int _epfd;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<GCHandle> _released = new();

    public EventLoop(int id)
    {
        _epfd = Sys.EpollCreate1(Sys.EPOLL_CLOEXEC);
        if (_epfd < 0)
        {
            throw new InvalidOperationException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
        }

        _thread = new Thread(Run) { IsBackground = true, Name = $"halua-io-{id}" };
        _thread.Start();
    }

    /// <summary>Whether the caller runs on this loop's thread.</summary>
    public bool IsCurrent => Thread.CurrentThread == _thread;

    public void Add(int fd, GCHandle handle)
    {
        var ev = new Sys.EpollEvent
        {
            Events = Sys.EPOLLIN | Sys.EPOLLOUT | Sys.EPOLLRDHUP | Sys.EPOLLET,
            Data = (ulong)GCHandle.ToIntPtr(handle),
        };
        if (Sys.EpollCtl(_epfd, Sys.EPOLL_CTL_ADD, fd, &ev) != 0)
        {
            throw new System.Net.Sockets.SocketException((int)Sys.ToSocketError(Marshal.GetLastPInvokeError()));
        }
    }

    /// <summary>Takes the socket out of the set; its handle is freed by the loop once no event in hand can name it.</summary>
    public void Remove(int fd, GCHandle handle)
    {
        var ev = default(Sys.EpollEvent);
        _ = Sys.EpollCtl(_epfd, Sys.EPOLL_CTL_DEL, fd, &ev);
        _released.Enqueue(handle);
    }

    private void Run()
    {
        var events = (Sys.EpollEvent*)NativeMemory.Alloc(MaxEvents, (nuint)sizeof(Sys.EpollEvent));
        while (true)
        {
            // A bounded wait so that released handles are freed even when no traffic comes.
            int n = Sys.EpollWait(_epfd, events, MaxEvents, _released.IsEmpty ? 1000 : 100);
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Sys.EINTR)
                {
                    continue;
                }

                ProcessLog.Instance.Alert($"event loop {_thread.Name}: epoll_wait failed with errno {errno}");
                Thread.Sleep(10);
                continue;
            }

            for (int i = 0; i < n; i++)
            {
                var target = GCHandle.FromIntPtr((nint)events[i].Data).Target;
                if (target is EpollConnection c)
                {
                    try
                    {
                        c.OnEvents(events[i].Events);
                    }
                    catch (Exception ex)
                    {
                        ProcessLog.Instance.Alert($"event loop {_thread.Name}: {ex}");
                    }
                }
            }

            while (_released.TryDequeue(out var h))
            {
                h.Free();
            }
        }
    }
}

/// <summary>The process's event loops, one per worker (nbthread).</summary>
internal static class EventLoops
{
    private static EventLoop[] _loops = [];
    private static readonly Lock SyncRoot = new();

    /// <summary>On Linux x86-64 unless HALUA_IO=dotnet asks for .NET's socket engine.</summary>
    public static bool Enabled { get; } = Sys.EpollSupported
        && !string.Equals(Environment.GetEnvironmentVariable("HALUA_IO"), "dotnet", StringComparison.OrdinalIgnoreCase);

    /// <summary>Makes sure there are at least <paramref name="count"/> loops (they live as long as the process).</summary>
    public static void EnsureStarted(int count)
    {
        lock (SyncRoot)
        {
            if (_loops.Length >= count)
            {
                return;
            }

            var loops = new EventLoop[count];
            Array.Copy(_loops, loops, _loops.Length);
            for (int i = _loops.Length; i < count; i++)
            {
                loops[i] = new EventLoop(i);
            }

            _loops = loops;
        }
    }

    public static EventLoop For(int worker)
    {
        var loops = Volatile.Read(ref _loops);
        if (loops.Length == 0)
        {
            EnsureStarted(1);
            loops = Volatile.Read(ref _loops);
        }

        return loops[(uint)worker % (uint)loops.Length];
    }
}
