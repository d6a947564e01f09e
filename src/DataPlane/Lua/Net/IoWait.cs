using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace HaLua.DataPlane.Lua.Net;

/// <summary>
/// What a Lua execution waits for during one socket operation: a pending task, until a deadline
/// (LuaSocket's per-operation timeout). The wait ends when the task completes, the deadline
/// passes (<see cref="TimedOut"/>) or the execution is stopped; it never cancels the task itself,
/// so a read that outlives a timeout still delivers its bytes to the next receive.
/// </summary>
internal sealed class IoWait : ILuaWaitable
{
    private long _deadline;

    public Task? Pending { get; set; }

    public bool TimedOut { get; private set; }

    /// <summary>Starts an operation; <paramref name="timeout"/> null waits as long as it takes.</summary>
    public void Begin(TimeSpan? timeout)
    {
        TimedOut = false;
        Pending = null;
        _deadline = timeout is { } t ? Stopwatch.GetTimestamp() + (long)(t.TotalSeconds * Stopwatch.Frequency) : 0;
    }

    /// <summary>The deadline passed (a timeout of 0 has passed at once: LuaSocket's "do not wait").</summary>
    public bool Expired => TimedOut || (_deadline != 0 && Stopwatch.GetTimestamp() >= _deadline);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        var pending = Pending;
        if (pending is null || pending.IsCompleted)
        {
            return;
        }

        try
        {
            if (_deadline == 0)
            {
                await pending.WaitAsync(cancellationToken).ConfigureAwait(false);
                return;
            }

            var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), _deadline);
            if (left <= TimeSpan.Zero)
            {
                TimedOut = true;
                return;
            }

            await pending.WaitAsync(left, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            TimedOut = true;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception)
        {
            // The operation failed: the script's next call reads that from the task.
        }
    }
}
