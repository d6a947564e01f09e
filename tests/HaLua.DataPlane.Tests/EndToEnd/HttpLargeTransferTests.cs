using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>Bodies far larger than memory allowances stream through with bounded memory.</summary>
public class HttpLargeTransferTests
{
    private const long GiB = 1L << 30;

    [Fact]
    public async Task OneGiB_UploadAndDownload_PassThrough_ProcessStaysUnder200MB()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(4);
        int originPort = ((IPEndPoint)listener.LocalEndPoint!).Port;

        // The origin counts the uploaded bytes, then answers with 1 GiB of its own (chunked, to
        // exercise the chunk decoder on the whole way back too).
        long received = -1;
        var origin = Task.Run(async () =>
        {
            using var s = await listener.AcceptAsync();
            var buf = new byte[256 * 1024];
            var head = new StringBuilder();
            int n, bodyStart = -1;
            while (bodyStart < 0 && (n = await s.ReceiveAsync(buf)) > 0)
            {
                head.Append(Encoding.Latin1.GetString(buf, 0, n));
                bodyStart = head.ToString().IndexOf("\r\n\r\n", StringComparison.Ordinal);
            }

            long got = head.Length - (bodyStart + 4);
            while (got < GiB && (n = await s.ReceiveAsync(buf)) > 0)
            {
                got += n;
            }

            received = got;
            await s.SendAsync("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"u8.ToArray());
            var chunk = new byte[64 * 1024];
            var chunkHead = Encoding.ASCII.GetBytes($"{chunk.Length:x}\r\n");
            for (long sent = 0; sent < GiB; sent += chunk.Length)
            {
                await s.SendAsync(chunkHead);
                await s.SendAsync(chunk);
                await s.SendAsync("\r\n"u8.ToArray());
            }

            await s.SendAsync("0\r\n\r\n"u8.ToArray());
        });

        await using var h = await HaluaProcess.StartAsync($$"""
            defaults
               mode http
               timeout connect 2s
               timeout client 60s
               timeout server 60s
            listen px
               bind 127.0.0.1:{PORT0}
               server o 127.0.0.1:{{originPort}}
            """);
        using var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await c.ConnectAsync(IPAddress.Loopback, h.Ports[0]);
        await c.SendAsync(Encoding.ASCII.GetBytes($"POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: {GiB}\r\n\r\n"));
        var block = new byte[256 * 1024];
        new Random(1).NextBytes(block);
        for (long sent = 0; sent < GiB; sent += block.Length)
        {
            await c.SendAsync(block);
        }

        // Read the chunked answer to its terminal chunk, counting the payload.
        var rbuf = new byte[256 * 1024];
        long total = 0;
        var tail = new List<byte>();
        bool headDone = false;
        long payload = 0;
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(3));
        while (true)
        {
            int n = await c.ReceiveAsync(rbuf, SocketFlags.None, cts.Token);
            Assert.True(n > 0, $"connection closed after {total} bytes");
            total += n;
            if (!headDone)
            {
                tail.AddRange(rbuf.AsSpan(0, n).ToArray());
                int at = Encoding.Latin1.GetString(tail.ToArray()).IndexOf("\r\n\r\n", StringComparison.Ordinal);
                if (at < 0)
                {
                    continue;
                }

                Assert.StartsWith("HTTP/1.1 200", Encoding.Latin1.GetString(tail.ToArray()));
                headDone = true;
                total -= at + 4;
                tail.Clear();
                continue;
            }

            // Keep the last bytes to see the terminal chunk.
            tail.AddRange(rbuf.AsSpan(Math.Max(0, n - 16), Math.Min(n, 16)).ToArray());
            if (tail.Count > 32)
            {
                tail.RemoveRange(0, tail.Count - 32);
            }

            if (Encoding.Latin1.GetString(tail.ToArray()).EndsWith("\r\n0\r\n\r\n", StringComparison.Ordinal))
            {
                payload = total;
                break;
            }
        }

        await origin;
        Assert.Equal(GiB, received);

        // 16384 chunks of 64 KiB, each with its "10000\r\n" line and CRLF, and the terminal chunk.
        Assert.Equal(GiB + (GiB / (64 * 1024) * (7 + 2)) + 5, payload);
        long peak = h.PeakResidentBytes;
        Assert.True(peak < 200L * 1024 * 1024, $"peak RSS {peak / (1024 * 1024)} MB");
    }
}
