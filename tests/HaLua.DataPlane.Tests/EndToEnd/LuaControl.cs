using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>
/// A Lua TCP service for tests that drive the runtime from Lua: it runs the request (Lua code, up
/// to the client's half-close) in the service context and answers what it returns, or
/// "error: ..." when it raised. The same file runs on HAProxy 2.6 for the comparison tests.
/// </summary>
internal static class LuaControl
{
    /// <summary>The service <c>ctl</c> and a helper <c>keys(t)</c>: t's keys sorted, comma-separated.</summary>
    public const string Script = """
        function keys(t)
          local k = {}
          for name in pairs(t) do k[#k + 1] = tostring(name) end
          table.sort(k)
          return table.concat(k, ",")
        end

        core.register_service("ctl", "tcp", function(applet)
          local code = applet:receive()
          local f, err = load(code, "ctl", "t")
          if not f then applet:send("load error: " .. err) return end
          local ok, r = pcall(f)
          if not ok then applet:send("error: " .. tostring(r)) return end
          applet:send(tostring(r))
        end)
        """;

    /// <summary>The config section serving <c>ctl</c> on {PORT1}.</summary>
    public const string Section = """
        listen ctl
           bind 127.0.0.1:{PORT1}
           tcp-request content use-service lua.ctl
        """;

    /// <summary>Runs <paramref name="code"/> in the control service on <paramref name="port"/>; returns its answer.</summary>
    public static Task<string> RunAsync(int port, string code) => HaluaProcess.ExchangeAsync(port, code);

    /// <summary>Asks until <paramref name="code"/> answers <paramref name="expected"/> (a state that checks reach in their own time).</summary>
    public static async Task WaitForAsync(int port, string code, string expected, TimeSpan timeout)
    {
        var until = DateTime.UtcNow + timeout;
        string last;
        while ((last = await RunAsync(port, code)) != expected)
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"'{code}' answered '{last}', not '{expected}', for {timeout}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>True when a TCP connection to the port is refused.</summary>
    public static async Task<bool> RefusedAsync(int port)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await s.ConnectAsync(IPAddress.Loopback, port, cts.Token);
            return false;
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return true;
        }
    }

    /// <summary>A server that first says its name, then echoes: a tunnel that shows where it goes and stays open.</summary>
    public static TestServer NamedEcho(string name) => new(name, async s =>
    {
        await s.SendAsync(Encoding.ASCII.GetBytes(name + "\n"));
        var buf = new byte[1024];
        int n;
        while ((n = await s.ReceiveAsync(buf)) > 0)
        {
            await s.SendAsync(buf.AsMemory(0, n));
        }
    });

    /// <summary>An open tunnel through the proxy: reads the server's name line, then echoes.</summary>
    public static async Task<(Socket Socket, string Server)> OpenTunnelAsync(int port)
    {
        var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(IPAddress.Loopback, port);
        var line = await ReadAsync(s, TimeSpan.FromSeconds(5));
        return (s, line.TrimEnd('\n'));
    }

    /// <summary>What arrives within the timeout (up to 1 KiB); "" at the end of the stream.</summary>
    public static async Task<string> ReadAsync(Socket s, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var buf = new byte[1024];
        int n = await s.ReceiveAsync(buf, SocketFlags.None, cts.Token);
        return Encoding.ASCII.GetString(buf, 0, n);
    }
}
