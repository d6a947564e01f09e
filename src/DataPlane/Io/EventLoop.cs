using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.CompilerServices;
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

    /// <summary>
    /// How long a loop runs without sleeping before it offers its core to a sibling loop. Under
    /// steady load a loop never sleeps (every epoll_wait finds new events), so two loops the kernel
    /// has put on one core take turns only when the scheduler's slice runs out: 1.5-4.6 ms measured
    /// with perf sched on this VM, and every connection of the waiting loop waits that long (the
    /// p99 of 2 workers was 1.6-2x HAProxy's). A yield after this long bounds the wait instead.
    /// </summary>
    internal static readonly long BusySliceTicks = Stopwatch.Frequency / 5000;

    /// <summary>An epoll_wait that took longer than this slept (a wait that finds events ready takes ~1 µs).</summary>
    private static readonly long SleptTicks = Stopwatch.Frequency / 50_000;

    private readonly Func<EventLoop[]> _siblings;
    private readonly int _epfd;
    private readonly Thread _thread;
    private readonly ConcurrentQueue<GCHandle> _released = new();
    private readonly ConcurrentQueue<(Action<object?> Work, object? State)> _posted = new();
    private readonly int _wakeFd;
    private int _wakePending;
    private int _cpu = -1;
    private long _yields;

    /// <param name="id">The worker it serves.</param>
    /// <param name="siblings">The loops of the process (this one included), whose cores it watches.</param>
    public EventLoop(int id, Func<EventLoop[]> siblings)
    {
        Id = id;
        _siblings = siblings;
        _epfd = Sys.EpollCreate1(Sys.EPOLL_CLOEXEC);
        if (_epfd < 0)
        {
            throw new InvalidOperationException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
        }

        _wakeFd = Sys.EventFd(0, Sys.EFD_NONBLOCK | Sys.EFD_CLOEXEC);
        var wake = new Sys.EpollEvent { Events = Sys.EPOLLIN, Data = 0 };
        if (_wakeFd < 0 || Sys.EpollCtl(_epfd, Sys.EPOLL_CTL_ADD, _wakeFd, &wake) != 0)
        {
            throw new InvalidOperationException($"eventfd failed: errno {Marshal.GetLastPInvokeError()}");
        }

        _thread = new Thread(Run) { IsBackground = true, Name = $"halua-io-{id}" };
        _thread.Start();
    }

    [ThreadStatic]
    private static EventLoop? t_current;

    /// <summary>The worker this loop serves (<see cref="EventLoops.For"/> of it is this loop).</summary>
    public int Id { get; }

    /// <summary>The loop whose thread the caller runs on, if any.</summary>
    public static EventLoop? Current => t_current;

    /// <summary>How many times the loop gave its core to a sibling loop (<see cref="BusySliceTicks"/>).</summary>
    public long Yields => Volatile.Read(ref _yields);

    /// <summary>Whether the caller runs on this loop's thread.</summary>
    public bool IsCurrent => Thread.CurrentThread == _thread;

    /// <summary>Runs <paramref name="work"/> on the loop thread, after the events in hand.</summary>
    public void Post(Action<object?> work, object? state)
    {
        _posted.Enqueue((work, state));
        if (Interlocked.Exchange(ref _wakePending, 1) == 0)
        {
            ulong one = 1;
            _ = Sys.Write(_wakeFd, &one, sizeof(ulong));
        }
    }

    /// <summary>
    /// <c>await loop.SwitchTo()</c> continues on the loop thread (at once when already there): a
    /// stream's work stays on its worker's thread, as in HAProxy, instead of hopping between the
    /// thread pool and the loop and contending for the Lua state.
    /// </summary>
    public SwitchAwaitable SwitchTo() => new(this, always: false);

    /// <summary><c>await loop.Yield()</c> lets the loop run its other work first, then continues on it.</summary>
    public SwitchAwaitable Yield() => new(this, always: true);

    public readonly struct SwitchAwaitable(EventLoop loop, bool always) : ICriticalNotifyCompletion
    {
        public SwitchAwaitable GetAwaiter() => this;

        public bool IsCompleted => !always && loop.IsCurrent;

        public void GetResult()
        {
        }

        public void OnCompleted(Action continuation) => loop.Post(static c => ((Action)c!)(), continuation);

        public void UnsafeOnCompleted(Action continuation) => loop.Post(static c => ((Action)c!)(), continuation);
    }

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
        t_current = this;
        var events = (Sys.EpollEvent*)NativeMemory.Alloc(MaxEvents, (nuint)sizeof(Sys.EpollEvent));
        long busySince = Stopwatch.GetTimestamp();
        while (true)
        {
            long before = Stopwatch.GetTimestamp();
            if (before - busySince > BusySliceTicks)
            {
                YieldIfSharingCore();
                before = Stopwatch.GetTimestamp();
                busySince = before;
            }

            // The core it will most likely wake on: where it is now.
            Volatile.Write(ref _cpu, Sys.SchedGetCpu());

            // A bounded wait so that released handles are freed even when no traffic comes.
            int n = Sys.EpollWait(_epfd, events, MaxEvents, !_posted.IsEmpty ? 0 : _released.IsEmpty ? 1000 : 100);
            long after = Stopwatch.GetTimestamp();
            if (after - before > SleptTicks)
            {
                busySince = after;
            }

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
                if (events[i].Data == 0)
                {
                    ulong count;
                    _ = Sys.Read(_wakeFd, &count, sizeof(ulong));
                    continue;
                }

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

            RunPosted();
            while (_released.TryDequeue(out var h))
            {
                h.Free();
            }
        }
    }

    /// <summary>
    /// After a busy slice: when a sibling loop last went to wait on this very core, it may be
    /// runnable behind this one, so sched_yield lets it run now. Loops on other cores are left
    /// alone: a yield there would only hand the core to another process (the load generator, in
    /// the benchmarks, whose slice then delayed this loop's connections instead).
    /// </summary>
    private void YieldIfSharingCore()
    {
        int cpu = Sys.SchedGetCpu();
        foreach (var other in _siblings())
        {
            if (other != this && Volatile.Read(ref other._cpu) == cpu)
            {
                _ = Sys.SchedYield();
                Volatile.Write(ref _yields, _yields + 1);
                return;
            }
        }
    }

    /// <summary>
    /// Runs the work posted before this call; work it posts in turn waits for the next round, after
    /// the I/O events then ready (so <see cref="Yield"/> does let other work run first).
    /// </summary>
    private void RunPosted()
    {
        Volatile.Write(ref _wakePending, 0);
        for (int count = _posted.Count; count > 0 && _posted.TryDequeue(out var item); count--)
        {
            try
            {
                item.Work(item.State);
            }
            catch (Exception ex)
            {
                ProcessLog.Instance.Alert($"event loop {_thread.Name}: {ex}");
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
                loops[i] = new EventLoop(i, static () => Volatile.Read(ref _loops));
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
