using System.Runtime.CompilerServices;

namespace HaLua.DataPlane.Lua;

/// <summary>
/// Serializes the use of one Lua state without blocking pool threads: async waiters queue in FIFO
/// order and receive the gate directly from the releaser (no barging, so a pre-empted script
/// cannot take the state back before the streams waiting for it). Synchronous entry, for
/// start-up and sample fetches, blocks; it is re-entrant on the owning thread.
/// </summary>
internal sealed class LuaGate
{
    private readonly SemaphoreSlim _sem = new(1, 1);
    private int _owner;
    private int _depth;
    private int _waiting;

    /// <summary>Callers queued for the gate: a running script yields sooner when this is not zero.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ValueTask EnterAsync()
    {
        if (_sem.Wait(0))
        {
            TakeOwnership();
            return ValueTask.CompletedTask;
        }

        return EnterSlowAsync();
    }

    private async ValueTask EnterSlowAsync()
    {
        Interlocked.Increment(ref _waiting);
        try
        {
            await _sem.WaitAsync().ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _waiting);
        }

        TakeOwnership();
    }

    public void Enter()
    {
        int me = Environment.CurrentManagedThreadId;
        if (Volatile.Read(ref _owner) == me)
        {
            _depth++;
            return;
        }

        if (!_sem.Wait(0))
        {
            Interlocked.Increment(ref _waiting);
            try
            {
                _sem.Wait();
            }
            finally
            {
                Interlocked.Decrement(ref _waiting);
            }
        }

        TakeOwnership();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void TakeOwnership()
    {
        Volatile.Write(ref _owner, Environment.CurrentManagedThreadId);
        _depth = 1;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Exit()
    {
        if (--_depth > 0)
        {
            return;
        }

        Volatile.Write(ref _owner, 0);
        _sem.Release();
    }
}
