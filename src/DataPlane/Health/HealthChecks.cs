using System.Diagnostics;
using System.Net.Sockets;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Stats;

namespace HaLua.DataPlane.Health;

/// <summary>A health check policy: one probe of a server.</summary>
internal interface IHealthCheck
{
    string Name { get; }

    /// <summary>Probes once; returns HAProxy's check status word (L4OK, L4TOUT, L4CON...) and success.</summary>
    ValueTask<(bool Ok, string Status)> ProbeAsync(ServerState server, TimeSpan timeout, CancellationToken cancellationToken);
}

/// <summary>HAProxy's default check: a TCP connection that completes (L4).</summary>
internal sealed class TcpConnectCheck : IHealthCheck
{
    public string Name => "tcp-check";

    public async ValueTask<(bool Ok, string Status)> ProbeAsync(ServerState server, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var ep = server.Address;
        using var s = new Socket(ep.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await s.ConnectAsync(ep, cts.Token).ConfigureAwait(false);
            s.LingerState = new LingerOption(true, 0);
            return (true, "L4OK");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return (false, "L4TOUT");
        }
        catch (SocketException)
        {
            return (false, "L4CON");
        }
    }
}

/// <summary>
/// Runs the active checks of every server declared with <c>check</c>: every <c>inter</c>, a probe;
/// HAProxy's health counter decides: from UP, <c>fall</c> consecutive failures take the server DOWN;
/// from DOWN, <c>rise</c> consecutive successes bring it back UP.
/// </summary>
internal sealed class HealthCheckService : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly IHealthCheck _check;

    public HealthCheckService(IHealthCheck? check = null) => _check = check ?? new TcpConnectCheck();

    public void Start(IEnumerable<ServerState> servers, Func<ServerState, TimeSpan> timeoutFor)
    {
        foreach (var s in servers.Where(s => s.Config.Check))
        {
            _loops.Add(Task.Run(() => RunAsync(s, timeoutFor(s), _stop.Token)));
        }
    }

    private async Task RunAsync(ServerState server, TimeSpan timeout, CancellationToken ct)
    {
        int rise = server.Config.Rise;
        int fall = server.Config.Fall;
        int health = rise + fall - 1;
        var inter = server.Config.Inter;

        // Spread the first checks over one interval, as HAProxy does.
        try
        {
            await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.NextDouble() * Math.Min(inter.TotalMilliseconds, 1000)), ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        while (!ct.IsCancellationRequested)
        {
            if (server.CheckEnabled && server.Admin != ServerAdminState.Maint)
            {
                var sw = Stopwatch.StartNew();
                bool ok;
                string status;
                try
                {
                    (ok, status) = await _check.ProbeAsync(server, timeout, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                server.CheckDuration = sw.Elapsed;
                server.CheckStatus = status;
                if (ok)
                {
                    if (health < rise + fall - 1)
                    {
                        health++;
                        if (health == rise && server.Oper == ServerOperState.Down)
                        {
                            health = rise + fall - 1;
                            server.SetOper(ServerOperState.Up, $"Layer4 check passed, check duration: {sw.ElapsedMilliseconds}ms");
                        }
                    }
                }
                else
                {
                    Counters.Inc(ref server.Counters.ChkFail);
                    if (health > 0)
                    {
                        health--;
                        if (health < rise && server.Oper != ServerOperState.Down)
                        {
                            health = 0;
                            server.SetOper(ServerOperState.Down, $"Layer4 {(status == "L4TOUT" ? "timeout" : "connection problem")}, info: \"{(status == "L4TOUT" ? "Connection timeout" : "Connection refused")}\", check duration: {sw.ElapsedMilliseconds}ms");
                        }
                    }
                }
            }

            try
            {
                await Task.Delay(inter, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await Task.WhenAll(_loops).ConfigureAwait(false);
        _stop.Dispose();
    }
}
