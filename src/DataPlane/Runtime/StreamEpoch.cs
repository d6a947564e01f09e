namespace HaLua.DataPlane.Runtime;

/// <summary>
/// The streams started between two Lua hot reloads. A reload closes the current epoch and opens a
/// new one; what the reload replaced (the old Lua states) is freed once every stream of that epoch
/// and of all earlier ones has ended, since only those streams can still hold a coroutine, a TXN
/// table or private data in them. One interlocked add per stream start and end; nothing per request.
/// </summary>
internal sealed class StreamEpoch
{
    private int _active;
    private Action? _onDrained;

    /// <summary>
    /// Enters the current epoch. A stream that lands in an epoch a reload has just closed is
    /// harmless: the reload retargeted the rules before closing it, so the stream can only reach
    /// the new states, and it still delays the old states' release until it ends.
    /// </summary>
    public static StreamEpoch Enter(ref StreamEpoch current)
    {
        var e = Volatile.Read(ref current);
        Interlocked.Increment(ref e._active);
        return e;
    }

    /// <summary>Leaves; the last stream out of a closed epoch lets the epochs queue release what waits for it.</summary>
    public void Leave(RetiredEpochs epochs)
    {
        if (Interlocked.Decrement(ref _active) == 0 && Volatile.Read(ref _onDrained) is not null)
        {
            epochs.Drain();
        }
    }

    public bool IsEmpty => Volatile.Read(ref _active) == 0;

    internal Action? OnDrained
    {
        get => Volatile.Read(ref _onDrained);
        set => Volatile.Write(ref _onDrained, value);
    }
}

/// <summary>Closed epochs, oldest first, each with what to run once it and every older one is empty.</summary>
internal sealed class RetiredEpochs
{
    private readonly Queue<StreamEpoch> _queue = new();

    public int Count
    {
        get
        {
            lock (_queue)
            {
                return _queue.Count;
            }
        }
    }

    /// <summary>Closes <paramref name="current"/> (replaced by a new epoch) with what to run once it has drained.</summary>
    public void Close(ref StreamEpoch current, Action onDrained)
    {
        var old = Interlocked.Exchange(ref current, new StreamEpoch());
        old.OnDrained = onDrained;
        lock (_queue)
        {
            _queue.Enqueue(old);
        }

        Drain();
    }

    /// <summary>Runs the actions of the oldest epochs that are empty, in order, stopping at the first still in use.</summary>
    public void Drain()
    {
        while (true)
        {
            Action? run;
            lock (_queue)
            {
                if (_queue.Count == 0 || !_queue.Peek().IsEmpty)
                {
                    return;
                }

                run = _queue.Dequeue().OnDrained;
            }

            run?.Invoke();
        }
    }
}
