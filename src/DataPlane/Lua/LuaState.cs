using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using HaLua.DataPlane.Lua.Interop;
using static HaLua.DataPlane.Lua.Native.LuaApi;

namespace HaLua.DataPlane.Lua;

/// <summary>Counters of one state, written only while holding its gate.</summary>
internal sealed class LuaStateStats
{
    public long Executions;
    public long Errors;
    public long Yields;
    public long ForcedYields;
    public long Timeouts;

    /// <summary>Adds <paramref name="other"/>'s counts (read from another thread: a value may lag by a slice).</summary>
    public void Add(LuaStateStats other)
    {
        Executions += Volatile.Read(ref other.Executions);
        Errors += Volatile.Read(ref other.Errors);
        Yields += Volatile.Read(ref other.Yields);
        ForcedYields += Volatile.Read(ref other.ForcedYields);
        Timeouts += Volatile.Read(ref other.Timeouts);
    }
}

/// <summary>
/// One Lua 5.4 state. Single-threaded: every use holds <see cref="Gate"/>. <c>lua-load</c> makes one
/// shared state; <c>lua-load-per-thread</c> one per worker. Memory is counted by our allocator
/// (tune.lua.maxmem); a count hook, armed by <see cref="LuaWatchdog"/> on long slices, pre-empts and
/// times out executions (tune.lua.forced-yield).
/// </summary>
internal sealed unsafe partial class LuaState : IDisposable
{
    private struct MemStats
    {
        public long Used;
        public long Limit;
        public int CallbackDepth;
    }

    private readonly MemStats* _mem;
    private GCHandle _self;
    private readonly Stack<LuaExecution> _threadPool = new();
    private bool _disposed;

    public LuaState(LuaEngine engine, int workerIndex, long maxMemory, int forcedYield)
    {
        Engine = engine;
        WorkerIndex = workerIndex;
        _mem = (MemStats*)NativeMemory.AllocZeroed((nuint)sizeof(MemStats));
        _mem->Limit = maxMemory;
        // Without tune.lua.maxmem, Lua's own allocator: no call back into .NET for each of the
        // thousands of allocations a request makes (measured: a quarter of the CPU of a Lua HTTP
        // service went to those transitions). With a limit, the counting allocator.
        L = maxMemory > 0 ? lua_newstate(&Allocate, (IntPtr)_mem) : luaL_newstate();
        if (L == IntPtr.Zero)
        {
            NativeMemory.Free(_mem);
            throw new InvalidOperationException("cannot create a Lua state");
        }

        _self = GCHandle.Alloc(this, GCHandleType.Normal);
        *lua_getextraspace(L) = GCHandle.ToIntPtr(_self);
        lua_setwarnf(L, &Warn, IntPtr.Zero);
        luaL_openlibs(L);
        // The count hook is armed by the watchdog on long slices only (LuaWatchdog).
        _forcedYield = forcedYield;
        LuaWatchdog.Register(this);
    }

    /// <summary>The main thread.</summary>
    public IntPtr L { get; }

    public LuaEngine Engine { get; }

    /// <summary>-1 for the shared state, else the worker this state belongs to.</summary>
    public int WorkerIndex { get; }

    /// <summary>Serializes every use of the state.</summary>
    public LuaGate Gate { get; } = new();

    /// <summary>The execution being resumed (null between resumes).</summary>
    public LuaExecution? Current { get; set; }

    public LuaStateStats Stats { get; } = new();

    /// <summary>"shared" (lua-load) or "thread N" (lua-load-per-thread, N from 1), as the admin API and the metrics name it.</summary>
    public string DisplayName => WorkerIndex < 0 ? "shared" : $"thread {WorkerIndex + 1}";

    /// <summary>Registry references of the class metatables and helpers set up by the prelude.</summary>
    public LuaClassRefs Classes { get; } = new();

    /// <summary>Bytes allocated, as counted by the limiting allocator (0 without <c>tune.lua.maxmem</c>: see <see cref="MeasureMemory"/>).</summary>
    public long MemoryUsed => _mem->Used;

    /// <summary>Bytes in use: the allocator's count, or Lua's own (taking the gate) when no limit is set.</summary>
    public long MeasureMemory()
    {
        if (_mem->Limit > 0)
        {
            return _mem->Used;
        }

        Enter();
        try
        {
            return (long)lua_gc(L, LUA_GCCOUNT, 0) * 1024 + lua_gc(L, LUA_GCCOUNTB, 0);
        }
        finally
        {
            Exit();
        }
    }

    public long MemoryLimit => _mem->Limit;

    /// <summary>Takes the gate (blocking). Pair with <see cref="Exit"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Enter()
    {
        Gate.Enter();

        // Outside lua_resume nothing is protected: an allocation failure would abort the process.
        _mem->CallbackDepth++;
    }

    /// <summary>Takes the gate without blocking a thread. Pair with <see cref="Exit"/>.</summary>
    public ValueTask EnterAsync()
    {
        var t = Gate.EnterAsync();
        if (t.IsCompletedSuccessfully)
        {
            _mem->CallbackDepth++;
            return ValueTask.CompletedTask;
        }

        return LuaGateAwaiter.AfterAsync(t, this);
    }

    internal void AfterEnter() => _mem->CallbackDepth++;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Exit()
    {
        _mem->CallbackDepth--;
        Gate.Exit();
    }

    /// <summary>While Lua code runs under lua_resume, tune.lua.maxmem is enforced; returns the depth to restore.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int SuspendCallbackDepth()
    {
        int d = _mem->CallbackDepth;
        _mem->CallbackDepth = 0;
        return d;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal void RestoreCallbackDepth(int depth) => _mem->CallbackDepth = depth;

    /// <summary>Marks entry into a C# callback: allocations there never fail (a failure would longjmp through managed frames).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void EnterCallback() => _mem->CallbackDepth++;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void ExitCallback() => _mem->CallbackDepth--;

    public static LuaState FromLua(IntPtr L) => (LuaState)GCHandle.FromIntPtr(*lua_getextraspace(L)).Target!;

    /// <summary>Loads a chunk and leaves the function on the stack; returns an error message or null.</summary>
    public string? Load(ReadOnlySpan<byte> code, string chunkName)
    {
        var name = Encoding.UTF8.GetBytes("@" + chunkName + "\0");
        int rc;
        fixed (byte* c = code)
        fixed (byte* n = name)
        fixed (byte* mode = "t\0"u8)
        {
            rc = luaL_loadbufferx(L, c, (nuint)code.Length, n, mode);
        }

        if (rc == LUA_OK)
        {
            return null;
        }

        string msg = LuaStack.ToStringOrNull(L, -1) ?? "cannot load chunk";
        lua_pop(L, 1);
        return msg;
    }

    /// <summary>Creates an execution of the function at the top of the main stack (popped). Caller holds the gate.</summary>
    public LuaExecution NewExecution(LuaContextKind kind, string name, TimeSpan budget)
    {
        // The coroutine and its execution object are reused together.
        var exec = _threadPool.Count > 0 ? _threadPool.Pop() : NewThread();
        exec.Pooled = false;
        lua_xmove(L, exec.Thread, 1);
        Stats.Executions++;
        exec.Start(kind, name, budget);
        return exec;
    }

    /// <summary>Creates an execution of a function held in the registry. Caller holds the gate.</summary>
    public LuaExecution NewExecution(int functionRef, LuaContextKind kind, string name, TimeSpan budget)
    {
        lua_rawgeti(L, LUA_REGISTRYINDEX, functionRef);
        return NewExecution(kind, name, budget);
    }

    private LuaExecution NewThread()
    {
        IntPtr thread = lua_newthread(L);
        int r = luaL_ref(L, LUA_REGISTRYINDEX);
        return new LuaExecution(this, thread, r);
    }

    internal void ReturnThread(LuaExecution exec)
    {
        if (_disposed || exec.Pooled)
        {
            return;
        }

        if (lua_status(exec.Thread) == LUA_OK && lua_gettop(exec.Thread) >= 0)
        {
            lua_settop(exec.Thread, 0);
        }
        else
        {
            // A dead (errored) or suspended coroutine: reset it so it can be reused.
            lua_closethread(exec.Thread, L);
            lua_settop(exec.Thread, 0);
        }

        if (_threadPool.Count < 256)
        {
            exec.Start(LuaContextKind.Body, "", TimeSpan.Zero);
            exec.Pooled = true;
            _threadPool.Push(exec);
        }
        else
        {
            luaL_unref(L, LUA_REGISTRYINDEX, exec.ThreadRef);
        }
    }

    /// <summary>Stores the value at the top of the main stack in the registry (popped).</summary>
    public int Ref() => luaL_ref(L, LUA_REGISTRYINDEX);

    public void Unref(int r) => luaL_unref(L, LUA_REGISTRYINDEX, r);

    public void CollectGarbage() => lua_gc(L, LUA_GCCOLLECT, 0);

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        LuaWatchdog.Unregister(this);
        Gate.Enter();
        try
        {
            lua_close(L);
        }
        finally
        {
            Gate.Exit();
        }

        _self.Free();
        NativeMemory.Free(_mem);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static IntPtr Allocate(IntPtr ud, IntPtr ptr, nuint osize, nuint nsize)
    {
        var mem = (MemStats*)ud;
        if (nsize == 0)
        {
            if (ptr != IntPtr.Zero)
            {
                NativeMemory.Free((void*)ptr);
                mem->Used -= (long)osize;
            }

            return IntPtr.Zero;
        }

        long old = ptr == IntPtr.Zero ? 0 : (long)osize;
        long delta = (long)nsize - old;
        if (delta > 0 && mem->Limit > 0 && mem->CallbackDepth == 0 && mem->Used + delta > mem->Limit)
        {
            return IntPtr.Zero;
        }

        void* p = NativeMemory.Realloc((void*)ptr, nsize);
        if (p == null)
        {
            return IntPtr.Zero;
        }

        mem->Used += delta;
        return (IntPtr)p;
    }

    /// <summary>The count hook: pre-emption and timeouts. Yielding here is safe: Lua performs the jump after we return.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Hook(IntPtr L, IntPtr ar)
    {
        try
        {
            var state = FromLua(L);
            var exec = state.Current;
            if (exec is null || !exec.OnHook())
            {
                return;
            }

            if (L == exec.Thread && lua_isyieldable(L) != 0)
            {
                lua_yield(L, 0);
            }
            else if (exec.TimedOut)
            {
                state.KillFromHook(L);
            }
        }
        catch
        {
            // A hook must never throw into native code.
        }
    }

    /// <summary>
    /// A timed-out execution inside a user coroutine cannot be yielded to our scheduler: install a
    /// Lua-side hook on that coroutine that raises an error at its next instruction (pure Lua, no managed frame).
    /// </summary>
    private void KillFromHook(IntPtr co)
    {
        if (Classes.KillThreadRef == 0)
        {
            return;
        }

        lua_rawgeti(L, LUA_REGISTRYINDEX, Classes.KillThreadRef);
        lua_pushthread(co);
        lua_xmove(co, L, 1);
        lua_pcall(L, 1, 0, 0);
        lua_settop(L, 0);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Warn(IntPtr ud, byte* msg, int tocont)
    {
        try
        {
            var s = Marshal.PtrToStringUTF8((IntPtr)msg);
            Console.Error.Write(tocont != 0 ? s : s + Environment.NewLine);
        }
        catch
        {
            // never throw into native code
        }
    }
}

/// <summary>Registry references of the class metatables created by the prelude.</summary>
internal sealed class LuaClassRefs
{
    public int Handle;
    public int Core;
    public int Txn;
    public int Channel;
    public int Fetches;
    public int Converters;
    public int SFetches;
    public int SConverters;
    public int Http;
    public int AppletTcp;
    public int AppletHttp;
    public int Socket;

    /// <summary>The metatable of a Socket's handle: its __gc closes the connection (made on first use).</summary>
    public int SocketHandle;
    public int Concat;
    public int Map;
    public int Regex;
    public int Proxy;
    public int Server;
    public int Listener;
    public int KillThreadRef;
}

/// <summary>The slow path of <see cref="LuaState.EnterAsync"/> (await cannot live in the unsafe class).</summary>
internal static class LuaGateAwaiter
{
    public static async ValueTask AfterAsync(ValueTask entering, LuaState state)
    {
        await entering.ConfigureAwait(false);
        state.AfterEnter();
    }
}
