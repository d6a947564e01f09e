using System.Diagnostics;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua;

/// <summary>
/// Arms the count hook only on a Lua thread that has been running for a while. Lua 5.4 traps every
/// instruction while a count hook is set, whatever its count, so a hook left on all the time taxes
/// every script; HaLua runs scripts hook-free and one watchdog thread, on seeing a slice older than
/// <see cref="ArmAfter"/>, sets the hook (tune.lua.forced-yield instructions) on the running thread.
/// From then on the hook pre-empts and enforces the timeouts as before. <c>lua_sethook</c> is
/// designed to be called asynchronously (from a signal); the state's arm lock guarantees the thread
/// it is called on is alive and running.
/// </summary>
internal static class LuaWatchdog
{
    /// <summary>How long a slice runs hook-free before the watchdog arms the hook.</summary>
    public static readonly TimeSpan ArmAfter = TimeSpan.FromMilliseconds(5);

    /// <summary>The watchdog's period: each wake-up pre-empts a busy loop thread on its core, so not too often.</summary>
    private const int PeriodMs = 5;

    private static readonly long ArmAfterTicks = (long)(ArmAfter.TotalSeconds * Stopwatch.Frequency);
    private static readonly Lock SyncRoot = new();
    private static LuaState[] _states = [];
    private static Thread? _thread;

    public static void Register(LuaState state)
    {
        lock (SyncRoot)
        {
            _states = [.. _states, state];
            if (_thread is null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "halua-lua-watchdog" };
                _thread.Start();
            }
        }
    }

    public static void Unregister(LuaState state)
    {
        lock (SyncRoot)
        {
            _states = [.. _states.Where(s => s != state)];
        }
    }

    private static void Run()
    {
        while (true)
        {
            Thread.Sleep(PeriodMs);
            long now = Stopwatch.GetTimestamp();
            foreach (var st in Volatile.Read(ref _states))
            {
                st.ArmIfRunningSince(now - ArmAfterTicks);
            }
        }
    }
}

/// <summary>
/// The watchdog's side of a state: which Lua thread runs, since when, and whether it is hooked.
/// A slice's start and end are lock-free (they happen twice per resume); the watchdog announces
/// itself in <c>_arming</c> and checks the slice again before it calls lua_sethook, and a slice's
/// end waits for an announced arming to finish, so the hook is only ever set on a thread that is
/// running. The user-coroutine stack is guarded by the lock (rare).
/// </summary>
internal sealed unsafe partial class LuaState
{
    private readonly Lock _armLock = new();
    private readonly Stack<IntPtr> _coroutines = new();
    private IntPtr _sliceThread;
    private long _runningSince;
    private int _arming;
    private int _armed;
    private int _forcedYield;

    /// <summary>Start of a resume slice of <paramref name="thread"/> (the caller holds the gate).</summary>
    internal void BeginSlice(IntPtr thread, long now)
    {
        if (_coroutines.Count > 0)
        {
            lock (_armLock)
            {
                _coroutines.Clear();
            }
        }

        _sliceThread = thread;
        Volatile.Write(ref _runningSince, now);
    }

    /// <summary>End of the slice: the execution's own thread loses the hook again.</summary>
    internal void EndSlice(IntPtr thread)
    {
        Interlocked.Exchange(ref _runningSince, 0);
        var spin = default(SpinWait);
        while (Volatile.Read(ref _arming) != 0)
        {
            spin.SpinOnce();
        }

        if (Volatile.Read(ref _armed) != 0)
        {
            lock (_armLock)
            {
                _armed = 0;
                lua_sethook(thread, null, 0, 0);
            }
        }
    }

    /// <summary>A user coroutine starts running inside the slice (coroutine.resume / wrap).</summary>
    internal void EnterCoroutine(IntPtr co)
    {
        lock (_armLock)
        {
            _coroutines.Push(co);
            if (_armed != 0)
            {
                lua_sethook(co, &Hook, LUA_MASKCOUNT, _forcedYield);
            }
        }
    }

    internal void LeaveCoroutine()
    {
        lock (_armLock)
        {
            if (_coroutines.Count > 0)
            {
                _coroutines.Pop();
            }
        }
    }

    internal void ArmIfRunningSince(long threshold)
    {
        long since = Volatile.Read(ref _runningSince);
        if (since == 0 || since > threshold || _forcedYield <= 0 || Volatile.Read(ref _armed) != 0)
        {
            return;
        }

        Interlocked.Exchange(ref _arming, 1);
        try
        {
            // Still the same slice? (Its end waits for us from here on.)
            if (Volatile.Read(ref _runningSince) != since)
            {
                return;
            }

            lock (_armLock)
            {
                _armed = 1;
                lua_sethook(_sliceThread, &Hook, LUA_MASKCOUNT, _forcedYield);
                foreach (var co in _coroutines)
                {
                    lua_sethook(co, &Hook, LUA_MASKCOUNT, _forcedYield);
                }
            }
        }
        finally
        {
            Volatile.Write(ref _arming, 0);
        }
    }
}
