using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Stats;

namespace HaLua.DataPlane.Health;

/// <summary>A health check policy: one probe of a server.</summary>
internal interface IHealthCheck
{
    string Name { get; }

    /// <summary>Probes once.</summary>
    ValueTask<CheckResult> ProbeAsync(ServerState server, CheckTimeouts timeouts, CancellationToken cancellationToken);
}

/// <summary>
/// One probe's outcome: HAProxy's check status (L4OK, L4TOUT, L4CON, L7OK, L7STS, L7RSP, L7TOUT,
/// SOCKERR), the HTTP status of L7 checks and the info text HAProxy logs with it.
/// </summary>
internal readonly record struct CheckResult(bool Ok, string Status, int Code = 0, string? Info = null)
{
    /// <summary>The reason of HAProxy's "Server px/s is DOWN|UP" line: <c>Layer7 wrong status, code: 500, info: "...", check duration: 2ms</c>.</summary>
    public string Describe(TimeSpan duration)
    {
        string text = Description(Status);

        // HAProxy prints the code of the statuses that carry L7 data (passed, wrong status), and the info when there is one.
        string code = Status is "L7OK" or "L7STS" ? $", code: {Code}" : "";
        string info = string.IsNullOrEmpty(Info) ? "" : $", info: \"{Info}\"";
        return $"{text}{code}{info}, check duration: {(long)duration.TotalMilliseconds}ms";
    }

    /// <summary>HAProxy's words for a check status (the stats' check_desc).</summary>
    public static string Description(string status) => status switch
    {
        "L4OK" => "Layer4 check passed",
        "L4TOUT" => "Layer4 timeout",
        "L4CON" => "Layer4 connection problem",
        "L7OK" => "Layer7 check passed",
        "L7STS" => "Layer7 wrong status",
        "L7RSP" => "Layer7 invalid response",
        "L7TOUT" => "Layer7 timeout",
        "" or "INI" => "Initializing",
        _ => "Socket error",
    };
}

/// <summary>
/// HAProxy's check timeouts: the connection must be up within <see cref="Connect"/>; then, with
/// <c>timeout check</c> set, the response must come within <see cref="Check"/>, else the whole check
/// must end within <see cref="Inter"/>.
/// </summary>
internal readonly record struct CheckTimeouts(TimeSpan Connect, TimeSpan? Check, TimeSpan Inter)
{
    /// <summary>HAProxy: connect within inter, or min(inter, timeout connect) when timeout check is set.</summary>
    public static CheckTimeouts For(ServerState server)
    {
        var t = server.Backend.Config.Timeouts;
        var inter = server.Config.Inter;
        var connect = t.Check is not null && t.Connect is { } c && c < inter ? c : inter;
        return new CheckTimeouts(connect, t.Check, inter);
    }

    /// <summary>What is left for the response once connected after <paramref name="elapsed"/>.</summary>
    public TimeSpan AfterConnect(TimeSpan elapsed) => Check ?? (Inter - elapsed > TimeSpan.FromMilliseconds(1) ? Inter - elapsed : TimeSpan.FromMilliseconds(1));
}

/// <summary>HAProxy's default check: a TCP connection that completes (L4).</summary>
internal sealed class TcpConnectCheck : IHealthCheck
{
    public string Name => "tcp-check";

    public async ValueTask<CheckResult> ProbeAsync(ServerState server, CheckTimeouts timeouts, CancellationToken cancellationToken)
    {
        var (socket, failure) = await ConnectAsync(server.CheckEndpoint, timeouts.Connect, cancellationToken).ConfigureAwait(false);
        if (socket is null)
        {
            return failure;
        }

        using (socket)
        {
            socket.LingerState = new LingerOption(true, 0);
            return new CheckResult(true, "L4OK");
        }
    }

    /// <summary>Connects within <paramref name="timeout"/>; on failure the L4 result (L4TOUT, L4CON) instead of a socket.</summary>
    public static async ValueTask<(Socket? Socket, CheckResult Failure)> ConnectAsync(IPEndPoint endpoint, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var s = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await s.ConnectAsync(endpoint, cts.Token).ConfigureAwait(false);
            return (s, default);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            s.Dispose();
            return (null, new CheckResult(false, "L4TOUT"));
        }
        catch (SocketException ex)
        {
            s.Dispose();
            return (null, new CheckResult(false, "L4CON", Info: ex.SocketErrorCode == SocketError.ConnectionRefused ? "Connection refused" : ex.Message));
        }
        catch
        {
            s.Dispose();
            throw;
        }
    }
}

/// <summary>
/// Runs the active checks of every server declared with <c>check</c>: every <c>inter</c>, a probe
/// (the backend's: HTTP with <c>option httpchk</c>, else TCP); HAProxy's health counter decides:
/// from UP, <c>fall</c> consecutive failures take the server DOWN; from DOWN, <c>rise</c>
/// consecutive successes bring it back UP.
/// </summary>
internal sealed class HealthCheckService : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];
    private readonly IHealthCheck? _check;

    /// <param name="check">One check for every server (tests); by default each server's backend decides.</param>
    public HealthCheckService(IHealthCheck? check = null) => _check = check;

    public void Start(IEnumerable<ServerState> servers, Func<ServerState, CheckTimeouts>? timeoutsFor = null)
    {
        timeoutsFor ??= CheckTimeouts.For;
        foreach (var s in servers.Where(s => s.Config.Check))
        {
            var check = _check ?? s.Backend.HealthCheck;
            var timeouts = timeoutsFor(s);
            lock (_loops)
            {
                _loops.Add(Task.Run(() => RunAsync(s, check, timeouts, _stop.Token)));
            }
        }
    }

    private static async Task RunAsync(ServerState server, IHealthCheck check, CheckTimeouts timeouts, CancellationToken ct)
    {
        int rise = server.Config.Rise;
        int fall = server.Config.Fall;
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

        while (!ct.IsCancellationRequested && !server.IsDeleted)
        {
            if (server.CheckEnabled && server.Admin != ServerAdminState.Maint)
            {
                var sw = Stopwatch.StartNew();
                CheckResult result;
                try
                {
                    result = await check.ProbeAsync(server, timeouts, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                server.CheckDuration = sw.Elapsed;
                server.CheckStatus = result.Status;
                server.CheckCode = result.Code;
                server.CheckInfo = result.Info ?? "";

                // The health lives on the server: an operator's forced state (Lua, CLI) moves it too.
                int health = server.CheckHealth;
                if (result.Ok)
                {
                    if (health < rise + fall - 1)
                    {
                        health++;
                        if (health == rise && server.Oper == ServerOperState.Down)
                        {
                            health = rise + fall - 1;
                            server.CheckHealth = health;
                            server.SetOper(ServerOperState.Up, result.Describe(sw.Elapsed));
                        }

                        server.CheckHealth = health;
                    }

                    if (health >= rise && server.Oper == ServerOperState.NoLb)
                    {
                        // A forced NOLB ends at the next good check, as in HAProxy.
                        server.SetOper(ServerOperState.Up, result.Describe(sw.Elapsed));
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
                            server.CheckHealth = health;
                            server.SetOper(ServerOperState.Down, result.Describe(sw.Elapsed));
                        }

                        server.CheckHealth = health;
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
        Task[] loops;
        lock (_loops)
        {
            loops = [.. _loops];
        }

        await Task.WhenAll(loops).ConfigureAwait(false);
        _stop.Dispose();
    }
}
