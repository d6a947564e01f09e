using System.Net.Sockets;
using HaLua.DataPlane.Health;
using HaLua.DataPlane.Listeners;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Streams;

namespace HaLua.DataPlane.Runtime;

/// <summary>
/// Runs a generation: its listeners, health checks and Lua tasks, and tracks the streams in
/// flight so a stop can let them finish (up to hard-stop-after).
/// </summary>
internal sealed partial class DataPlaneHost : IDisposable
{
    private readonly CancellationTokenSource _hardStop = new();
    private readonly HealthCheckService _health = new();
    private readonly List<Listener> _listeners = [];
    private readonly object _drainLock = new();
    private TaskCompletionSource? _drained;
    private int _active;
    private int _workerRotor;
    private StreamEpoch _epoch = new();
    private readonly RetiredEpochs _epochs = new();

    public DataPlaneHost(Generation generation)
    {
        Generation = generation;
        int max = Math.Max(1, generation.Config.Global.MaxConn);
        ProcessSlots = new SemaphoreSlim(max, max);
        generation.Info.Host = this;
    }

    /// <summary>A stop began (show info's Stopping).</summary>
    public bool IsStopping { get; private set; }

    /// <summary>The global <c>maxconn</c>: connections of the whole process; listeners stop accepting at the limit.</summary>
    internal SemaphoreSlim ProcessSlots { get; }

    public Generation Generation { get; }

    public IReadOnlyList<Listener> Listeners => _listeners;

    public int ActiveStreams => Volatile.Read(ref _active);

    public List<string> Start()
    {
        var errors = new List<string>();
        var g = Generation;
        ProcessLog.Instance.Configure(g.Config.Global.Logs);
        errors.AddRange(g.Lua.RunInits());
        if (errors.Count > 0)
        {
            return errors;
        }

        if (Io.EventLoops.Enabled)
        {
            Io.EventLoops.EnsureStarted(Math.Max(1, g.Config.Global.NbThread));
        }

        foreach (var px in g.Proxies.Where(p => p.IsFrontend))
        {
            var handler = new FrontendHandler(this, px);
            foreach (var listener in px.Listeners)
            {
                if (listener.Start(handler) is { } err)
                {
                    errors.Add(err);
                    continue;
                }

                _listeners.Add(listener);
            }
        }

        if (errors.Count > 0)
        {
            return errors;
        }

        _health.Start(g.Proxies.Where(p => p.Backend is not null).SelectMany(p => p.Backend!.Servers));
        g.Lua.StartTasks();
        ProcessLog.Instance.Notice($"HaLua {Program.Version} started: {_listeners.Count} listener(s), {g.Proxies.Count} proxies, {g.Lua.States.Count()} Lua state(s).");
        return errors;
    }

    internal int NextWorker() => (int)((uint)Interlocked.Increment(ref _workerRotor) % (uint)Math.Max(1, Generation.Config.Global.NbThread));

    internal CancellationToken HardStop => _hardStop.Token;

    /// <summary>Counts a stream in; the epoch it gets must be given back to <see cref="StreamEnded"/>.</summary>
    internal StreamEpoch StreamStarted()
    {
        Interlocked.Increment(ref _active);
        Interlocked.Increment(ref Stats.ProcessCounters.ActiveConnections);
        return StreamEpoch.Enter(ref _epoch);
    }

    internal void StreamEnded(StreamEpoch epoch)
    {
        epoch.Leave(_epochs);
        Interlocked.Decrement(ref Stats.ProcessCounters.ActiveConnections);
        if (Interlocked.Decrement(ref _active) == 0)
        {
            lock (_drainLock)
            {
                _drained?.TrySetResult();
            }
        }
    }

    /// <summary>Stops accepting, waits for the streams in flight (at most <paramref name="hardStopAfter"/>), then cuts the rest.</summary>
    public async Task StopAsync(TimeSpan? hardStopAfter)
    {
        IsStopping = true;
        foreach (var l in _listeners)
        {
            await l.StopAsync().ConfigureAwait(false);
        }

        Task drained;
        lock (_drainLock)
        {
            _drained = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            if (Volatile.Read(ref _active) == 0)
            {
                _drained.TrySetResult();
            }

            drained = _drained.Task;
        }

        if (hardStopAfter is { } limit)
        {
            await Task.WhenAny(drained, Task.Delay(limit)).ConfigureAwait(false);
        }
        else
        {
            await drained.ConfigureAwait(false);
        }

        if (!drained.IsCompleted)
        {
            ProcessLog.Instance.Warning($"hard-stop-after reached: closing {ActiveStreams} stream(s) still in flight.");
        }

        _hardStop.Cancel();
        await Task.WhenAny(drained, Task.Delay(TimeSpan.FromSeconds(1))).ConfigureAwait(false);
        await _health.DisposeAsync().ConfigureAwait(false);
    }

    public void Dispose()
    {
        Generation.Dispose();
        _hardStop.Dispose();
        ProcessSlots.Dispose();
    }

    private sealed class FrontendHandler(DataPlaneHost host, ProxyRuntime frontend) : IConnectionHandler
    {
        public void ReleaseSlot()
        {
            frontend.Slots?.Release();
            host.ProcessSlots.Release();
        }

        public async ValueTask WaitForSlotAsync(CancellationToken cancellationToken)
        {
            await host.ProcessSlots.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (frontend.Slots is { } slots)
            {
                try
                {
                    await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch
                {
                    host.ProcessSlots.Release();
                    throw;
                }
            }
        }

        public async Task HandleAsync(Socket client, Listener listener)
        {
            var epoch = host.StreamStarted();
            try
            {
                int worker = host.NextWorker();
                if (Io.EventLoops.Enabled)
                {
                    // The whole stream runs on its worker's event loop, as HAProxy runs it on its thread.
                    await Io.EventLoops.For(worker).SwitchTo();
                }
                else
                {
                    await Task.Yield();
                }

                Io.Connection connection;
                try
                {
                    connection = Io.Connection.Accepted(client, worker);
                }
                catch
                {
                    client.Dispose();
                    throw;
                }

                if (frontend.Config.Mode == Config.ProxyMode.Http)
                {
                    await new HttpStream(connection, frontend, host.Generation, worker, host.HardStop, listener.Counters).RunAsync().ConfigureAwait(false);
                }
                else
                {
                    await new TcpStream(connection, frontend, host.Generation, worker, host.HardStop, listener.Counters).RunAsync().ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                ProcessLog.Instance.Alert($"stream on {frontend.Name}/{listener.Name} failed: {ex.Message}");
            }
            finally
            {
                frontend.Slots?.Release();
                host.ProcessSlots.Release();
                host.StreamEnded(epoch);
            }
        }
    }
}
