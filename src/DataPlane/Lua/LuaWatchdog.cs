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

/// <summary>The watchdog's side of a state: which Lua thread runs, since when, and whether it is hooked.</summary>
internal sealed unsafe partial class LuaState
{
    private readonly Lock _armLock = new();
    private readonly Stack<IntPtr> _running = new();
    private long _runningSince;
    private bool _armed;
    private int _forcedYield;

    /// <summary>Start of a resume slice of <paramref name="thread"/> (the caller holds the gate).</summary>
    internal void BeginSlice(IntPtr thread, long now)
    {
        lock (_armLock)
        {
            _running.Clear();
            _running.Push(thread);
            _armed = false;
            Volatile.Write(ref _runningSince, now);
        }
    }

    /// <summary>End of the slice: the execution's own thread loses the hook again.</summary>
    internal void EndSlice(IntPtr thread)
    {
        lock (_armLock)
        {
            Volatile.Write(ref _runningSince, 0);
            _running.Clear();
            if (_armed)
            {
                _armed = false;
                lua_sethook(thread, null, 0, 0);
            }
        }
    }

    /// <summary>A user coroutine starts running inside the slice (coroutine.resume / wrap).</summary>
    internal void EnterCoroutine(IntPtr co)
    {
        lock (_armLock)
        {
            _running.Push(co);
            if (_armed)
            {
                lua_sethook(co, &Hook, LUA_MASKCOUNT, _forcedYield);
            }
        }
    }

    internal void LeaveCoroutine()
    {
        lock (_armLock)
        {
            if (_running.Count > 1)
            {
                _running.Pop();
            }
        }
    }

    internal void ArmIfRunningSince(long threshold)
    {
        long since = Volatile.Read(ref _runningSince);
        if (since == 0 || since > threshold || _forcedYield <= 0)
        {
            return;
        }

        lock (_armLock)
        {
            if (_runningSince == 0 || _armed || _running.Count == 0)
            {
                return;
            }

            _armed = true;
            foreach (var t in _running)
            {
                lua_sethook(t, &Hook, LUA_MASKCOUNT, _forcedYield);
            }
        }
    }
}
