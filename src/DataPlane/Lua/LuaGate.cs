using System.Runtime.CompilerServices;

namespace HaLua.DataPlane.Lua;

/// <summary>
/// Serializes the use of one Lua state without blocking pool threads. Uncontended, entering and
/// leaving are one compare-and-swap each (twice per Lua slice, so it matters). Contended, callers
/// queue in FIFO order and receive the gate directly from the releaser (no barging past a queue,
/// so a pre-empted script cannot take the state back before the streams waiting for it).
/// Synchronous entry, for start-up and sample fetches, blocks; it is re-entrant on the owning thread.
/// </summary>
internal sealed class LuaGate
{
    private readonly Lock _lock = new();
    private readonly Queue<TaskCompletionSource> _queue = new();
    private int _held;
    private int _waiting;
    private int _owner;
    private int _depth;

    /// <summary>Callers queued for the gate: a running script yields sooner when this is not zero.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ValueTask EnterAsync()
    {
        if (Volatile.Read(ref _waiting) == 0 && Interlocked.CompareExchange(ref _held, 1, 0) == 0)
        {
            TakeOwnership();
            return ValueTask.CompletedTask;
        }

        var handed = Queue();
        if (handed is null)
        {
            TakeOwnership();
            return ValueTask.CompletedTask;
        }

        return AwaitHandOverAsync(handed);
    }

    private async ValueTask AwaitHandOverAsync(Task handed)
    {
        await handed.ConfigureAwait(false);
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

        if (Volatile.Read(ref _waiting) != 0 || Interlocked.CompareExchange(ref _held, 1, 0) != 0)
        {
            Queue()?.GetAwaiter().GetResult();
        }

        TakeOwnership();
    }

    /// <summary>Takes the gate if it is free (null), else queues and returns the task the releaser completes.</summary>
    private Task? Queue()
    {
        lock (_lock)
        {
            // Count ourselves first: a releaser that then finds the gate free hands it over.
            Interlocked.Increment(ref _waiting);
            if (_queue.Count == 0 && Interlocked.CompareExchange(ref _held, 1, 0) == 0)
            {
                Interlocked.Decrement(ref _waiting);
                return null;
            }

            var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _queue.Enqueue(tcs);
            return tcs.Task;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void TakeOwnership()
    {
        Volatile.Write(ref _owner, Environment.CurrentManagedThreadId);
        _depth = 1;
    }

    public void Exit()
    {
        if (--_depth > 0)
        {
            return;
        }

        Volatile.Write(ref _owner, 0);
        if (Volatile.Read(ref _waiting) == 0)
        {
            Interlocked.Exchange(ref _held, 0);
            if (Volatile.Read(ref _waiting) == 0 || Interlocked.CompareExchange(ref _held, 1, 0) != 0)
            {
                // Nobody waits, or whoever took the gate meanwhile hands it over at its own exit.
                return;
            }
        }

        TaskCompletionSource? next = null;
        lock (_lock)
        {
            if (_queue.TryDequeue(out next))
            {
                // The gate stays held: it goes straight to the first in the queue.
                Interlocked.Decrement(ref _waiting);
            }
            else
            {
                Interlocked.Exchange(ref _held, 0);
            }
        }

        next?.SetResult();
    }
}
