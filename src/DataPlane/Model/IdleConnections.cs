using HaLua.DataPlane.Io;

namespace HaLua.DataPlane.Model;

/// <summary>
/// A server's idle connections, kept for the next requests of any client connection (HAProxy's
/// <c>http-reuse</c> pool). One list per worker: a connection belongs to the event loop of the
/// worker that opened it, and a stream takes only from its own worker's list, so the lock of a
/// list is only ever contended by the purge timer. The most recently used connection is taken
/// first; connections that have carried more than one request count as proven (HAProxy's "safe"
/// list). A connection the server closed while idle is noticed when taken (and by the purge) and
/// dropped. <c>pool-max-conn</c> bounds the whole pool; every <c>pool-purge-delay</c>, half of the
/// connections that stayed idle for the whole delay are closed.
/// </summary>
internal sealed class IdleConnections : IDisposable
{
    private readonly Worker[] _workers;
    private readonly int _max;
    private readonly TimeSpan _purgeDelay;
    private readonly TimeProvider _time;
    private ITimer? _purgeTimer;
    private volatile bool _disposed;

    // Counted only when pool-max-conn bounds the pool: a counter every worker writes would be a
    // cache line shared by all of them on every request.
    private int _bounded;

    public IdleConnections(int workers, int maxIdle, TimeSpan purgeDelay, TimeProvider? time = null)
    {
        _workers = new Worker[Math.Max(1, workers)];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Worker();
        }

        _max = maxIdle;
        _purgeDelay = purgeDelay;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Idle connections now (all workers).</summary>
    public int Count => _workers.Sum(w => w.Entries.Count);

    /// <summary>
    /// A live idle connection for a request of <paramref name="worker"/>, the most recently used
    /// first; with <paramref name="provenOnly"/>, only one that has carried more than one request.
    /// <paramref name="requests"/> is how many it has carried.
    /// </summary>
    public Connection? TryTake(int worker, bool provenOnly, out int requests)
    {
        var w = _workers[(uint)worker % (uint)_workers.Length];
        while (true)
        {
            Entry entry;
            lock (w.Sync)
            {
                int i = w.Entries.Count - 1;
                while (i >= 0 && provenOnly && w.Entries[i].Requests < 2)
                {
                    i--;
                }

                if (i < 0)
                {
                    requests = 0;
                    return null;
                }

                entry = w.Entries[i];
                w.Entries.RemoveAt(i);
            }

            Unreserve(1);
            if (entry.Connection.IsIdleUsable())
            {
                requests = entry.Requests;
                return entry.Connection;
            }

            // Closed by the server while it waited: never hand it out.
            entry.Connection.Close(abort: true);
        }
    }

    /// <summary>Keeps <paramref name="connection"/> for the next requests, or closes it when the pool is full (<c>pool-max-conn</c>) or gone.</summary>
    public void Return(int worker, Connection connection, int requests)
    {
        if (_disposed || !TryReserve())
        {
            connection.Close(abort: false);
            return;
        }

        var w = _workers[(uint)worker % (uint)_workers.Length];
        lock (w.Sync)
        {
            w.Entries.Add(new Entry(connection, requests, _time.GetTimestamp()));
        }

        if (_purgeTimer is null && _purgeDelay > TimeSpan.Zero)
        {
            StartPurge();
        }
    }

    private bool TryReserve()
    {
        if (_max < 0 || Interlocked.Increment(ref _bounded) <= _max)
        {
            return true;
        }

        Interlocked.Decrement(ref _bounded);
        return false;
    }

    private void Unreserve(int n)
    {
        if (_max >= 0)
        {
            Interlocked.Add(ref _bounded, -n);
        }
    }

    private void StartPurge()
    {
        var timer = _time.CreateTimer(static s => ((IdleConnections)s!).Purge(), this, _purgeDelay, _purgeDelay);
        if (Interlocked.CompareExchange(ref _purgeTimer, timer, null) is not null || _disposed)
        {
            timer.Dispose();
        }
    }

    /// <summary>
    /// Drops the connections the server closed, then closes half (rounded up) of those idle for a
    /// whole purge delay, the oldest first: a pool shrinks to what the traffic uses.
    /// </summary>
    internal void Purge()
    {
        long now = _time.GetTimestamp();
        var toClose = new List<Connection>();
        foreach (var w in _workers)
        {
            lock (w.Sync)
            {
                w.Entries.RemoveAll(e =>
                {
                    bool dead = !e.Connection.IsIdleUsable();
                    if (dead)
                    {
                        toClose.Add(e.Connection);
                    }

                    return dead;
                });
                int stale = 0;
                while (stale < w.Entries.Count && _time.GetElapsedTime(w.Entries[stale].IdleSince, now) >= _purgeDelay)
                {
                    stale++;
                }

                int purge = (stale + 1) / 2;
                toClose.AddRange(w.Entries.Take(purge).Select(e => e.Connection));
                w.Entries.RemoveRange(0, purge);
            }
        }

        Unreserve(toClose.Count);
        foreach (var c in toClose)
        {
            c.Close(abort: false);
        }
    }

    /// <summary>Closes every idle connection; later returns close theirs.</summary>
    public void Dispose()
    {
        _disposed = true;
        _purgeTimer?.Dispose();
        foreach (var w in _workers)
        {
            List<Entry> entries;
            lock (w.Sync)
            {
                entries = [.. w.Entries];
                w.Entries.Clear();
            }

            Unreserve(entries.Count);
            foreach (var e in entries)
            {
                e.Connection.Close(abort: false);
            }
        }
    }

    private readonly record struct Entry(Connection Connection, int Requests, long IdleSince);

    /// <summary>One worker's idle connections, oldest first.</summary>
    private sealed class Worker
    {
        public Lock Sync { get; } = new();

        public List<Entry> Entries { get; } = [];
    }
}
