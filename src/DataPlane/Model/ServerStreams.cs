namespace HaLua.DataPlane.Model;

/// <summary>
/// A stream as a server's registry sees it: a node of that server's intrusive list, made once per
/// stream (the stream's idle watch is one) so that joining and leaving a server allocates nothing.
/// </summary>
internal abstract class StreamLink
{
    internal StreamLink? Previous;
    internal StreamLink? Next;
    internal ServerStreams? Owner;

    /// <summary>Set once the stream was killed by an operator (HAProxy's termination state 'K').</summary>
    public bool Killed => Volatile.Read(ref _killed) != 0;

    private int _killed;

    /// <summary>Ends the stream: its connections close as soon as it notices (never blocks the caller).</summary>
    public void Kill()
    {
        Interlocked.Exchange(ref _killed, 1);
        OnKill();
    }

    protected abstract void OnKill();
}

/// <summary>
/// The streams using one server (HAProxy's per-server list of active streams): what
/// <c>shutdown sessions server</c> and Lua's <c>Server.shut_sess</c> close. A stream joins when it
/// takes a slot on the server and leaves when it gives it back: two pointer updates under a lock
/// of that server alone.
/// </summary>
internal sealed class ServerStreams
{
    private readonly object _lock = new();
    private StreamLink? _head;
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public void Add(StreamLink link)
    {
        lock (_lock)
        {
            if (link.Owner is not null)
            {
                return;
            }

            link.Owner = this;
            link.Previous = null;
            link.Next = _head;
            if (_head is not null)
            {
                _head.Previous = link;
            }

            _head = link;
            _count++;
        }
    }

    public void Remove(StreamLink link)
    {
        lock (_lock)
        {
            if (link.Owner != this)
            {
                return;
            }

            if (link.Previous is not null)
            {
                link.Previous.Next = link.Next;
            }
            else
            {
                _head = link.Next;
            }

            if (link.Next is not null)
            {
                link.Next.Previous = link.Previous;
            }

            link.Previous = link.Next = null;
            link.Owner = null;
            _count--;
        }
    }

    /// <summary>Kills every stream on the server; returns how many. The kills run outside the lock (a stream leaves the list as it ends).</summary>
    public int KillAll()
    {
        List<StreamLink> victims;
        lock (_lock)
        {
            victims = new List<StreamLink>(_count);
            for (var l = _head; l is not null; l = l.Next)
            {
                victims.Add(l);
            }
        }

        foreach (var v in victims)
        {
            v.Kill();
        }

        return victims.Count;
    }
}
