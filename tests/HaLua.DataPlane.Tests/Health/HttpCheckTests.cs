using System.Net;
using System.Net.Sockets;
using System.Text;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Health;
using HaLua.DataPlane.Model;

namespace HaLua.DataPlane.Tests.Health;

/// <summary>
/// option httpchk against a scripted server. The expected requests and reasons are what HAProxy
/// 2.6.12 sent and logged for the same configurations and responses.
/// </summary>
public sealed class HttpCheckTests
{
    private static readonly CheckTimeouts Timeouts = new(TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(5));

    private static HttpCheckConfig CheckConfig(string lines)
    {
        var result = ConfigParser.Parse($"backend be\n{lines}\n", "test.cfg", _ => null);
        Assert.Empty(result.Errors.Select(e => e.ToString()));
        return Assert.Single(result.Config!.Proxies).HttpCheck!;
    }

    /// <summary>Serves one check: reads the request head, answers <paramref name="response"/> (null: stays silent), then closes.</summary>
    private static async Task<(CheckResult Result, string Request)> ProbeAsync(string checkLines, string? response, CheckTimeouts? timeouts = null)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var served = Task.Run(async () =>
        {
            using var c = await listener.AcceptSocketAsync();
            var request = new List<byte>();
            var buf = new byte[4096];
            while (!Encoding.Latin1.GetString([.. request]).Contains("\r\n\r\n", StringComparison.Ordinal))
            {
                int n = await c.ReceiveAsync(buf);
                if (n == 0)
                {
                    break;
                }

                request.AddRange(buf.AsSpan(0, n).ToArray());
            }

            if (response is null)
            {
                await Task.Delay(3000);
            }
            else
            {
                await c.SendAsync(Encoding.Latin1.GetBytes(response));
                c.Shutdown(SocketShutdown.Send);
                try
                {
                    while (await c.ReceiveAsync(buf) > 0)
                    {
                    }
                }
                catch (SocketException)
                {
                    // the check resets its connection when done
                }
            }

            return Encoding.Latin1.GetString([.. request]);
        });

        var be = new BackendState(new ProxyConfig("be", ProxyCapabilities.Backend, default));
        var server = new ServerState(new ServerConfig("s", "127.0.0.1", port, default), 1, be, new IPEndPoint(IPAddress.Loopback, port));
        var result = await new HttpCheck(CheckConfig(checkLines)).ProbeAsync(server, timeouts ?? Timeouts, CancellationToken.None);
        return (result, response is null ? "" : await served);
    }

    [Theory]
    [InlineData("option httpchk", "OPTIONS / HTTP/1.0\r\n\r\n")]
    [InlineData("option httpchk /health", "OPTIONS /health HTTP/1.0\r\n\r\n")]
    [InlineData("option httpchk GET /health", "GET /health HTTP/1.0\r\n\r\n")]
    [InlineData(@"option httpchk GET /h HTTP/1.1\r\nHost:\ www", "GET /h HTTP/1.1\r\nhost: www\r\nconnection: close\r\n\r\n")]
    [InlineData(@"option httpchk GET /h HTTP/1.0\r\nHost:\ www\r\nX-Y:\ z", "GET /h HTTP/1.0\r\nhost: www\r\nx-y: z\r\n\r\n")]
    [InlineData("option httpchk\nhttp-check send meth GET uri /s ver HTTP/1.1 hdr Host www hdr X-A b", "GET /s HTTP/1.1\r\nhost: www\r\nx-a: b\r\nconnection: close\r\n\r\n")]
    [InlineData("option httpchk HEAD /h HTTP/1.1\nhttp-check send hdr Host www", "HEAD /h HTTP/1.1\r\nhost: www\r\nconnection: close\r\n\r\n")]
    [InlineData("option httpchk POST /p HTTP/1.1\nhttp-check send hdr Host www body abc", "POST /p HTTP/1.1\r\nhost: www\r\ncontent-length: 3\r\nconnection: close\r\n\r\nabc")]
    public void BuildRequest_AsHaproxySendsIt(string lines, string expected)
    {
        Assert.Equal(expected, Encoding.Latin1.GetString(HttpCheck.BuildRequest(CheckConfig(lines))));
    }

    [Theory]
    // No expect rule: 2xx and 3xx pass.
    [InlineData("", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "Layer7 check passed, code: 200")]
    [InlineData("", "HTTP/1.1 301 Moved\r\nContent-Length: 0\r\n\r\n", "Layer7 check passed, code: 301")]
    [InlineData("", "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n", "Layer7 wrong status, code: 500, info: \"Internal Server Error\"")]
    [InlineData("", "HTTP/1.1 404 Not Found\r\n\r\n", "Layer7 wrong status, code: 404, info: \"Not Found\"")]
    [InlineData("", "HTTP/1.1 500\r\n\r\n", "Layer7 wrong status, code: 500")]
    [InlineData("", "garbage\r\n\r\n", "Layer7 invalid response")]
    [InlineData("", "", "Layer7 invalid response")]
    [InlineData("", "HTTP/1.1 200 OK\r\nContent-", "Layer7 invalid response")]
    // Status rules.
    [InlineData("http-check expect status 200", "HTTP/1.1 301 Moved\r\n\r\n", "Layer7 wrong status, code: 301, info: \"Moved\"")]
    [InlineData("http-check expect status 200-299,302", "HTTP/1.1 302 Found\r\n\r\n", "Layer7 check passed, code: 302")]
    [InlineData("http-check expect rstatus ^2", "HTTP/1.1 500 Internal Server Error\r\n\r\n", "Layer7 wrong status, code: 500, info: \"Internal Server Error\"")]
    [InlineData("http-check expect ! status 500", "HTTP/1.1 500 Internal Server Error\r\n\r\n", "Layer7 wrong status, code: 500, info: \"Internal Server Error\"")]
    [InlineData("http-check expect ! status 500", "HTTP/1.1 301 Moved\r\n\r\n", "Layer7 check passed, code: 301")]
    [InlineData("http-check expect ! rstatus ^5", "HTTP/1.1 500 Oops\r\n\r\n", "Layer7 wrong status, code: 500, info: \"Oops\"")]
    // Body rules: the status does not count.
    [InlineData("http-check expect string hello", "HTTP/1.1 500 Oops\r\nContent-Length: 11\r\n\r\nhello world", "Layer7 check passed, code: 500")]
    [InlineData("http-check expect string hello", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye", "Layer7 invalid response, info: \"HTTP content check did not match\"")]
    [InlineData("http-check expect string hello", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", "Layer7 invalid response, info: \"HTTP content check could not find a response body\"")]
    [InlineData("http-check expect ! string err", "HTTP/1.1 200 OK\r\n\r\nan err here", "Layer7 invalid response, info: \"HTTP check matched unwanted content\"")]
    [InlineData("http-check expect rstring hel+o", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n3\r\nllo\r\n0\r\n\r\n", "Layer7 check passed, code: 200")]
    [InlineData("http-check expect status 200\nhttp-check expect string hello", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nbye", "Layer7 invalid response, info: \"HTTP content check did not match\"")]
    public async Task Probe_Response_JudgedAsHaproxy(string expectLines, string response, string reason)
    {
        var (result, request) = await ProbeAsync($"option httpchk\n{expectLines}", response);

        Assert.Equal("OPTIONS / HTTP/1.0\r\n\r\n", request);
        Assert.Equal(reason + ", check duration: 0ms", result.Describe(TimeSpan.Zero));
        Assert.Equal(reason.StartsWith("Layer7 check passed", StringComparison.Ordinal), result.Ok);
        Assert.Equal(reason.Split(',')[0] switch
        {
            "Layer7 check passed" => "L7OK",
            "Layer7 wrong status" => "L7STS",
            _ => "L7RSP",
        }, result.Status);
    }

    [Fact]
    public async Task Probe_SilentServer_L7TimeoutAfterTimeoutCheck()
    {
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var (result, _) = await ProbeAsync("option httpchk", null, new CheckTimeouts(TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(300), TimeSpan.FromSeconds(5)));

        Assert.Equal("L7TOUT", result.Status);
        Assert.Equal("Layer7 timeout, check duration: 301ms", result.Describe(TimeSpan.FromMilliseconds(301)));
        Assert.InRange(sw.Elapsed, TimeSpan.FromMilliseconds(250), TimeSpan.FromSeconds(2.5));
    }

    [Fact]
    public void Timeouts_AsHaproxy_ConnectWithinInterUnlessTimeoutCheckIsSet()
    {
        static CheckTimeouts For(string timeouts)
        {
            var config = ConfigParser.Parse($"backend be\n{timeouts}\nserver s 127.0.0.1:80 check inter 2s\n", "t.cfg", _ => null).Config!;
            var be = new BackendState(config.Proxies[0]);
            return CheckTimeouts.For(new ServerState(config.Proxies[0].Servers[0], 1, be, new IPEndPoint(IPAddress.Loopback, 80)));
        }

        Assert.Equal(TimeSpan.FromSeconds(2), For("timeout connect 300ms").Connect);
        Assert.Equal(TimeSpan.FromMilliseconds(300), For("timeout connect 300ms\ntimeout check 5s").Connect);
        Assert.Equal(TimeSpan.FromSeconds(5), For("timeout connect 300ms\ntimeout check 5s").Check);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), For("").AfterConnect(TimeSpan.FromMilliseconds(500)));
    }
}
