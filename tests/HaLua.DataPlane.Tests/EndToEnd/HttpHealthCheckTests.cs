using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>option httpchk and http-check through a running halua: the request the origin gets, DOWN and UP with HAProxy's reasons.</summary>
public class HttpHealthCheckTests
{
    private static readonly TimeSpan StateChange = TimeSpan.FromSeconds(8);

    // timeout check: a loaded test machine may answer a check later than inter; fall 2: one
    // connect that misses its limit (min(inter, timeout connect)) on such a machine changes nothing.
    private const string Defaults = """
        defaults
           mode http
           timeout connect 1s
           timeout client 5s
           timeout server 5s
           timeout check 2s
        """;

    /// <summary>An origin whose answer to every request the test changes at will.</summary>
    private sealed class SwitchableOrigin : IAsyncDisposable
    {
        private volatile string _response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

        public SwitchableOrigin() => Origin = new HttpOrigin(_ => Task.FromResult<byte[]?>(Encoding.ASCII.GetBytes(_response)));

        public HttpOrigin Origin { get; }

        public int Port => Origin.Port;

        public void Answer(int status, string reason, string body = "") =>
            _response = $"HTTP/1.1 {status} {reason}\r\nContent-Length: {body.Length}\r\n\r\n{body}";

        public ValueTask DisposeAsync() => Origin.DisposeAsync();
    }

    [Fact]
    public async Task HttpChk_500MarksDownWithHaproxyReason_200BringsItBackUp_OriginGetsTheConfiguredRequest()
    {
        await using var origin = new SwitchableOrigin();
        await using var h = await HaluaProcess.StartAsync(Defaults + $$"""

            frontend fe
               bind 127.0.0.1:{PORT0}
               default_backend be
            backend be
               option httpchk GET /health HTTP/1.1\r\nHost:\ checks.example
               server o 127.0.0.1:{{origin.Port}} check inter 200ms rise 2 fall 2
            """);

        using (var c = await RawHttpClient.ConnectAsync(h.Ports[0]))
        {
            await c.SendAsync("GET /app HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal(200, (await c.ReadResponseAsync()).Status);
        }

        origin.Answer(500, "Internal Server Error");
        await h.WaitForStderrAsync("Server be/o is DOWN, reason: Layer7 wrong status, code: 500, info: \"Internal Server Error\", check duration: ", StateChange);
        using (var c = await RawHttpClient.ConnectAsync(h.Ports[0]))
        {
            await c.SendAsync("GET /app HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal(503, (await c.ReadResponseAsync()).Status);
        }

        origin.Answer(200, "OK");
        await h.WaitForStderrAsync("Server be/o is UP, reason: Layer7 check passed, code: 200, check duration: ", StateChange);
        using (var c = await RawHttpClient.ConnectAsync(h.Ports[0]))
        {
            await c.SendAsync("GET /app HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.Equal(200, (await c.ReadResponseAsync()).Status);
        }

        // Every check is the configured request, exactly as HAProxy 2.6 writes it.
        var checks = origin.Origin.Requests.Where(r => r.Head.Contains("/health", StringComparison.Ordinal)).ToList();
        Assert.True(checks.Count >= 4, $"{checks.Count} checks");
        Assert.All(checks, r => Assert.Equal("GET /health HTTP/1.1\r\nhost: checks.example\r\nconnection: close\r\n\r\n", r.Head));
    }

    [Fact]
    public async Task HttpCheckExpect_StringRstatusNegatedStatus_DownAndUpWithHaproxyReasons()
    {
        await using var text = new SwitchableOrigin();
        await using var regex = new SwitchableOrigin();
        await using var negated = new SwitchableOrigin();
        text.Answer(200, "OK", "ready");
        await using var h = await HaluaProcess.StartAsync(Defaults + $$"""

               option httpchk
            backend text
               http-check expect string ready
               server o 127.0.0.1:{{text.Port}} check inter 200ms rise 1 fall 2
            backend regex
               http-check expect rstatus ^2
               server o 127.0.0.1:{{regex.Port}} check inter 200ms rise 1 fall 2
            backend negated
               http-check send meth GET uri /status
               http-check expect ! status 503
               server o 127.0.0.1:{{negated.Port}} check inter 200ms rise 1 fall 2
            frontend fe
               bind 127.0.0.1:{PORT0}
               default_backend text
            """);

        text.Answer(200, "OK", "not yet");
        regex.Answer(302, "Found");
        negated.Answer(503, "Service Unavailable");
        await h.WaitForStderrAsync("Server text/o is DOWN, reason: Layer7 invalid response, info: \"HTTP content check did not match\", check duration: ", StateChange);
        await h.WaitForStderrAsync("Server regex/o is DOWN, reason: Layer7 wrong status, code: 302, info: \"Found\", check duration: ", StateChange);
        await h.WaitForStderrAsync("Server negated/o is DOWN, reason: Layer7 wrong status, code: 503, info: \"Service Unavailable\", check duration: ", StateChange);

        text.Answer(500, "Oops", "ready now");
        regex.Answer(204, "No Content");
        negated.Answer(404, "Not Found");
        await h.WaitForStderrAsync("Server text/o is UP, reason: Layer7 check passed, code: 500, check duration: ", StateChange);
        await h.WaitForStderrAsync("Server regex/o is UP, reason: Layer7 check passed, code: 204, check duration: ", StateChange);
        await h.WaitForStderrAsync("Server negated/o is UP, reason: Layer7 check passed, code: 404, check duration: ", StateChange);

        Assert.All(text.Origin.Requests, r => Assert.Equal("OPTIONS / HTTP/1.0\r\n\r\n", r.Head));
        Assert.All(negated.Origin.Requests, r => Assert.Equal("GET /status HTTP/1.0\r\n\r\n", r.Head));
    }

    [Fact]
    public async Task HttpChk_CheckPortOption_ProbesThatPortNotTheServers()
    {
        await using var traffic = new SwitchableOrigin();
        await using var health = new SwitchableOrigin();
        health.Answer(503, "Service Unavailable");
        await using var h = await HaluaProcess.StartAsync(Defaults + $$"""

            listen px
               bind 127.0.0.1:{PORT0}
               option httpchk /ping
               server o 127.0.0.1:{{traffic.Port}} check port {{health.Port}} addr 127.0.0.1 inter 200ms rise 1 fall 2
            """);

        await h.WaitForStderrAsync("Server px/o is DOWN, reason: Layer7 wrong status, code: 503", StateChange);
        Assert.Empty(traffic.Origin.Requests);
        Assert.All(health.Origin.Requests, r => Assert.Equal("OPTIONS /ping HTTP/1.0\r\n\r\n", r.Head));
    }
}
