using System.Diagnostics;
using HaLua.DataPlane.Io;

namespace HaLua.DataPlane.Tests.Io;

/// <summary>A test of HaLua's own epoll loop: skipped where it does not run (not Linux x86-64).</summary>
internal sealed class EpollFactAttribute : FactAttribute
{
    public EpollFactAttribute()
    {
        if (!Sys.EpollSupported)
        {
            Skip = "the epoll event loop runs on Linux x86-64 only";
        }
    }

    /// <summary>Skipped also when the process may use fewer CPUs than this.</summary>
    public int MinCpus
    {
        get => field;
        set
        {
            field = value;
            if (Skip is null && Environment.ProcessorCount < value)
            {
                Skip = $"needs {value} CPUs";
            }
        }
    }
}

/// <summary>
/// The event loops' fairness (EventLoop.YieldIfSharingCore): a loop busy for longer than its slice
/// gives its core to a sibling loop that went to wait on the same CPU, and to nobody else. Each
/// test has its own pair of loops, pinned with sched_setaffinity, apart from the process's workers.
/// </summary>
public sealed class EventLoopTests
{
    [EpollFact]
    public async Task BusyLoop_YieldsItsCore_ToASiblingOnTheSameCpu()
    {
        var (a, b) = NewPair();
        int cpu = await RunOnAsync(a, Sys.SchedGetCpu);
        await PinAsync(a, cpu);
        await PinAsync(b, cpu);

        // (Measured from here: on a loaded machine, b's own pinning can take it past a slice.)
        long bYields = b.Yields;
        long yields = await BusyAsync(a, rounds: 100);

        // 100 rounds of 1 ms, each longer than the slice, and the loop checks for events between
        // two rounds (posted work posted by posted work waits for the next pass): a yield after
        // each round whose check did not itself sleep (on a loaded machine, one pre-empted in
        // epoll_wait counts as a sleep). Without the yield, or with a loop that runs all posted
        // work in one pass: 0 or 1.
        Assert.True(yields >= 25, $"{yields} yields in 100 busy rounds");
        Assert.Equal(bYields, b.Yields);
    }

    [EpollFact(MinCpus = 2)]
    public async Task BusyLoop_DoesNotYield_WhenItsSiblingWaitsOnAnotherCpu()
    {
        var allowed = AllowedCpus();
        var (a, b) = NewPair();
        await PinAsync(a, allowed[0]);
        await PinAsync(b, allowed[1]);

        Assert.Equal(0, await BusyAsync(a, rounds: 100));
    }

    [EpollFact]
    public async Task BusyLoop_Alone_NeverYields()
    {
        EventLoop[] group = [];
        var a = new EventLoop(0, () => group);
        group = [a];

        Assert.Equal(0, await BusyAsync(a, rounds: 50));
    }

    private static (EventLoop A, EventLoop B) NewPair()
    {
        EventLoop[] group = [];
        var a = new EventLoop(0, () => group);
        var b = new EventLoop(1, () => group);
        group = [a, b];
        return (a, b);
    }

    private static Task<T> RunOnAsync<T>(EventLoop loop, Func<T> work)
    {
        var tcs = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        loop.Post(_ =>
        {
            try
            {
                tcs.SetResult(work());
            }
            catch (Exception ex)
            {
                tcs.SetException(ex);
            }
        }, null);
        return tcs.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    /// <summary>Pins the loop's thread, then lets it pass through one more wait, before which it notes its new CPU.</summary>
    private static async Task PinAsync(EventLoop loop, int cpu)
    {
        await RunOnAsync(loop, () => Sys.SetThreadAffinity(1UL << cpu) ? 0 : throw new InvalidOperationException($"sched_setaffinity to CPU {cpu} failed"));
        await RunOnAsync(loop, () => 0);
    }

    private static List<int> AllowedCpus()
    {
        ulong mask = Sys.ThreadAffinity();
        return [.. Enumerable.Range(0, 64).Where(i => (mask & (1UL << i)) != 0)];
    }

    /// <summary>Keeps the loop busy with <paramref name="rounds"/> posted rounds of 1 ms of work; returns the yields it made meanwhile.</summary>
    private static async Task<long> BusyAsync(EventLoop loop, int rounds)
    {
        long before = loop.Yields;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int left = rounds;
        void Round(object? _)
        {
            long until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 1000;
            while (Stopwatch.GetTimestamp() < until)
            {
                Thread.SpinWait(20);
            }

            if (--left > 0)
            {
                loop.Post(Round, null);
            }
            else
            {
                done.SetResult();
            }
        }

        loop.Post(Round, null);
        await done.Task.WaitAsync(TimeSpan.FromSeconds(30));
        return loop.Yields - before;
    }
}
