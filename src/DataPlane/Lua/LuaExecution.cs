using System.Diagnostics;
using HaLua.DataPlane.Lua.Interop;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua;

/// <summary>
/// One run of a Lua function as a coroutine of a <see cref="LuaState"/>: the resume loop's unit.
/// Resume only while holding <see cref="LuaState.Gate"/>. The owner (stream, task, sample
/// evaluation) decides what each <see cref="LuaOutcome"/> means.
/// </summary>
internal sealed class LuaExecution
{
    private long _budgetTicks;
    private long _started;
    private long _usedTicks;
    private long _sliceStart;
    private int _pendingArgs;
    private bool _finished;
    private List<IDisposable>? _resources;

    /// <summary>
    /// An execution object goes back to its state with its coroutine (<see cref="Release"/>) and
    /// serves the next call: nothing may use it after Release.
    /// </summary>
    public LuaExecution(LuaState state, IntPtr thread, int threadRef)
    {
        State = state;
        Thread = thread;
        ThreadRef = threadRef;
        Name = "";
    }

    /// <summary>In its state's pool: a second Release is ignored rather than handing it out twice.</summary>
    public bool Pooled { get; set; }

    /// <summary>Makes the object a new execution (fresh from the pool).</summary>
    public void Start(LuaContextKind kind, string name, TimeSpan budget)
    {
        Kind = kind;
        Name = name;
        _started = Stopwatch.GetTimestamp();
        _budgetTicks = budget <= TimeSpan.Zero ? 0 : (long)(budget.TotalSeconds * Stopwatch.Frequency);
        _usedTicks = 0;
        _sliceStart = 0;
        _pendingArgs = 0;
        _finished = false;
        Waiter = null;
        Owner = null;
        DoneRequested = false;
        ForcedYield = false;
        TimedOut = false;
        ErrorMessage = null;
        ResultCount = 0;
        Yields = 0;
    }

    public LuaState State { get; }

    /// <summary>The coroutine (a Lua thread) this execution runs on.</summary>
    public IntPtr Thread { get; }

    public int ThreadRef { get; }

    public LuaContextKind Kind { get; private set; }

    /// <summary>The registered name (service, action, fetch...) for logs and errors.</summary>
    public string Name { get; private set; }

    /// <summary>What the execution waits for when it yielded; null for a pre-emption or core.yield.</summary>
    public ILuaWaitable? Waiter { get; set; }

    /// <summary>The object the execution serves: an applet, a TXN... (for context checks).</summary>
    public object? Owner { get; set; }

    /// <summary>Set by core.done()/txn:done(): the next yield ends the execution.</summary>
    public bool DoneRequested { get; set; }

    public bool ForcedYield { get; private set; }

    public bool TimedOut { get; private set; }

    public string? ErrorMessage { get; private set; }

    public int ResultCount { get; private set; }

    public long Yields { get; private set; }

    public TimeSpan LuaTime => TimeSpan.FromSeconds((double)_usedTicks / Stopwatch.Frequency);

    /// <summary>Arguments pushed on <see cref="Thread"/> for the first resume (after the function itself).</summary>
    public void SetArgumentCount(int n) => _pendingArgs = n;

    /// <summary>Runs the coroutine until it returns, yields or fails. The caller holds the state's gate.</summary>
    public LuaOutcome Resume()
    {
        if (_finished)
        {
            throw new InvalidOperationException("execution already finished");
        }

        var previous = State.Current;
        State.Current = this;
        ForcedYield = false;
        Waiter = null;
        int nargs = _pendingArgs;
        _pendingArgs = 0;
        _sliceStart = Stopwatch.GetTimestamp();
        int depth = State.SuspendCallbackDepth();
        State.BeginSlice(Thread, _sliceStart);
        int status = lua_resume(Thread, State.L, nargs, out int nres);
        State.EndSlice(Thread);
        State.RestoreCallbackDepth(depth);
        _usedTicks += Stopwatch.GetTimestamp() - _sliceStart;
        State.Current = previous;

        if (TimedOut && status != LUA_YIELD)
        {
            // Stopped inside a user coroutine: whatever the script made of that error, the
            // execution ran out of time (HAProxy ends it as a timeout).
            lua_settop(Thread, 0);
            return Finish(LuaOutcome.Timeout, $"Lua {KindName} '{Name}': execution timeout");
        }

        switch (status)
        {
            case LUA_YIELD:
                Yields++;
                State.Stats.Yields++;
                if (TimedOut)
                {
                    lua_pop(Thread, nres);
                    return Finish(LuaOutcome.Timeout, $"Lua {KindName} '{Name}': execution timeout");
                }

                if (DoneRequested)
                {
                    // core.done(value) yields its value: keep it as the result.
                    ResultCount = nres;
                    _finished = true;
                    return LuaOutcome.Done;
                }

                lua_pop(Thread, nres);
                if (ForcedYield)
                {
                    State.Stats.ForcedYields++;
                }

                return LuaOutcome.Yield;

            case LUA_OK:
                ResultCount = nres;
                _finished = true;
                return LuaOutcome.Ok;

            case LUA_ERRMEM:
                return Finish(LuaOutcome.OutOfMemory, $"Lua {KindName} '{Name}': out of memory (tune.lua.maxmem)");

            default:
                string msg = LuaStack.ToStringOrNull(Thread, -1) ?? $"({LuaStack.TypeName(Thread, -1)} error object)";
                return Finish(LuaOutcome.Error, $"Lua {KindName} '{Name}': runtime error: " + LuaStack.Traceback(State.L, Thread, msg));
        }
    }

    private LuaOutcome Finish(LuaOutcome outcome, string message)
    {
        ErrorMessage = message;
        _finished = true;
        State.Stats.Errors++;
        if (outcome == LuaOutcome.Timeout)
        {
            State.Stats.Timeouts++;
        }

        return outcome;
    }

    /// <summary>Called by the count hook on this execution's thread. Returns true to request a yield.</summary>
    public bool OnHook()
    {
        long now = Stopwatch.GetTimestamp();
        if (_budgetTicks > 0 && _usedTicks + (now - _sliceStart) > _budgetTicks)
        {
            TimedOut = true;
            return true;
        }

        // HAProxy's forced yield: a long slice (the watchdog armed the hook) gives way every
        // tune.lua.forced-yield instructions so the other streams of its thread and of the state run.
        if (Kind is not (LuaContextKind.Fetch or LuaContextKind.Converter or LuaContextKind.Body or LuaContextKind.Init))
        {
            ForcedYield = true;
            return true;
        }

        return false;
    }

    /// <summary>
    /// Something the script opened that must not outlive the execution (a socket, an HTTP request):
    /// disposed when the execution ends, whatever way it ends. The caller holds the gate.
    /// </summary>
    public void Track(IDisposable resource) => (_resources ??= []).Add(resource);

    /// <summary>The script closed it itself. The caller holds the gate.</summary>
    public void Untrack(IDisposable resource) => _resources?.Remove(resource);

    /// <summary>Gives the coroutine back to the state's pool (or closes it). The caller holds the gate.</summary>
    public void Release()
    {
        if (_resources is { } resources)
        {
            _resources = null;
            foreach (var r in resources)
            {
                r.Dispose();
            }
        }

        if (!Pooled)
        {
            LuaMetrics.Executed(KindName, Name, _started);
        }

        State.ReturnThread(this);
    }

    /// <summary>The context's name in messages and metrics.</summary>
    public string KindName => Kind switch
    {
        LuaContextKind.Body => "body",
        LuaContextKind.Init => "init",
        LuaContextKind.Task => "task",
        LuaContextKind.Action => "action",
        LuaContextKind.Fetch => "sample-fetch",
        LuaContextKind.Converter => "converter",
        LuaContextKind.Service => "service",
        LuaContextKind.Cli => "cli",
        _ => "function",
    };
}
