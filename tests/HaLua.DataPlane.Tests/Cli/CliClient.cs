using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaLua.DataPlane.Tests.Cli;

/// <summary>A client of a stats socket (unix path or TCP port), as socat would be.</summary>
internal sealed class CliClient : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly StringBuilder _received = new();
    private readonly byte[] _buffer = new byte[65536];

    private CliClient(Socket socket) => _socket = socket;

    public static EndPoint Unix(string path) => new UnixDomainSocketEndPoint(path);

    public static EndPoint Tcp(int port) => new IPEndPoint(IPAddress.Loopback, port);

    public static async Task<CliClient> ConnectAsync(EndPoint endpoint)
    {
        var s = endpoint is UnixDomainSocketEndPoint
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await s.ConnectAsync(endpoint, cts.Token);
        return new CliClient(s);
    }

    /// <summary>One non-interactive exchange: sends <paramref name="input"/> and reads until the server closes.</summary>
    public static async Task<string> RunAsync(EndPoint endpoint, string input)
    {
        await using var c = await ConnectAsync(endpoint);
        await c.SendAsync(input);
        return await c.ReadToEndAsync();
    }

    public Task SendAsync(string text) => _socket.SendAsync(Encoding.UTF8.GetBytes(text), SocketFlags.None);

    /// <summary>Everything until the server closes the connection.</summary>
    public async Task<string> ReadToEndAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            int n = await _socket.ReceiveAsync(_buffer, SocketFlags.None, cts.Token);
            if (n == 0)
            {
                string all = _received.ToString();
                _received.Clear();
                return all;
            }

            _received.Append(Encoding.UTF8.GetString(_buffer, 0, n));
        }
    }

    /// <summary>What arrives up to and including <paramref name="marker"/> (prompt mode's "\n&gt; ").</summary>
    public async Task<string> ReadUntilAsync(string marker = "\n> ", TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(20));
        while (true)
        {
            string text = _received.ToString();
            int at = text.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
            {
                _received.Remove(0, at + marker.Length);
                return text[..(at + marker.Length)];
            }

            int n = await _socket.ReceiveAsync(_buffer, SocketFlags.None, cts.Token);
            if (n == 0)
            {
                throw new IOException($"closed before '{marker}': {text}");
            }

            _received.Append(Encoding.UTF8.GetString(_buffer, 0, n));
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
