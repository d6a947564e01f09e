using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>A syslog server on an ephemeral loopback UDP port: every datagram as text, in order.</summary>
internal sealed class SyslogReceiver : IDisposable
{
    private readonly UdpClient _udp = new(new IPEndPoint(IPAddress.Loopback, 0));
    private readonly BlockingCollection<string> _lines = [];
    private readonly CancellationTokenSource _stop = new();

    public SyslogReceiver()
    {
        Port = ((IPEndPoint)_udp.Client.LocalEndPoint!).Port;
        _ = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                try
                {
                    var r = await _udp.ReceiveAsync(_stop.Token);
                    _lines.Add(Encoding.UTF8.GetString(r.Buffer));
                }
                catch (Exception)
                {
                    return;
                }
            }
        });
    }

    public int Port { get; }

    public bool IsEmpty => _lines.Count == 0;

    public async Task<string> NextAsync(TimeSpan? timeout = null)
    {
        var limit = timeout ?? TimeSpan.FromSeconds(5);
        return await Task.Run(() => _lines.TryTake(out var line, limit) ? line : throw new TimeoutException($"no log line within {limit}"));
    }

    /// <summary>The next line containing <paramref name="text"/>; the lines before it are dropped.</summary>
    public async Task<string> NextWithAsync(string text, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(5));
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            string line = await NextAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            if (line.Contains(text, StringComparison.Ordinal))
            {
                return line;
            }
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _udp.Dispose();
        _lines.Dispose();
    }
}
