using System.Text;

namespace HaLua.DataPlane.Http;

/// <summary>HAProxy's built-in error responses (status line, headers and HTML body as HAProxy sends them).</summary>
internal static class HttpErrors
{
    private static readonly Dictionary<int, byte[]> Pages = new()
    {
        [400] = Page(400, "Bad request", "Your browser sent an invalid request."),
        [403] = Page(403, "Forbidden", "Request forbidden by administrative rules."),
        [429] = Page(429, "Too Many Requests", "You have sent too many requests in a given amount of time."),
        [408] = Page(408, "Request Time-out", "Your browser didn't send a complete request in time."),
        [500] = Page(500, "Internal Server Error", "An internal server error occurred."),
        [502] = Page(502, "Bad Gateway", "The server returned an invalid or incomplete response."),
        [503] = Page(503, "Service Unavailable", "No server is available to handle this request."),
        [500] = Page(500, "Internal Server Error", "An internal server error occurred."),
        [504] = Page(504, "Gateway Time-out", "The server didn't respond in time."),
    };

    /// <summary>The full response for <paramref name="status"/>; the connection closes after it.</summary>
    public static ReadOnlyMemory<byte> For(int status) => Pages[status];

    public static bool TryGet(int status, out ReadOnlyMemory<byte> page)
    {
        bool found = Pages.TryGetValue(status, out var bytes);
        page = bytes;
        return found;
    }

    private static byte[] Page(int status, string reason, string text)
    {
        string body = $"<html><body><h1>{status} {reason}</h1>\n{text}\n</body></html>\n";
        return Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} {reason}\r\ncontent-length: {body.Length}\r\ncache-control: no-cache\r\ncontent-type: text/html\r\nconnection: close\r\n\r\n{body}");
    }
}

/// <summary>A receive buffer: bytes [Start, End) of <see cref="Data"/> are unread.</summary>
internal sealed class HttpBuffer(int size) : IDisposable
{
    public byte[] Data { get; } = System.Buffers.ArrayPool<byte>.Shared.Rent(size);

    public int Start { get; set; }

    public int End { get; set; }

    public int Length => End - Start;

    public ReadOnlySpan<byte> Unread => Data.AsSpan(Start, End - Start);

    public ReadOnlyMemory<byte> UnreadMemory => Data.AsMemory(Start, End - Start);

    /// <summary>Room after the unread bytes (moved to the front first when that makes room).</summary>
    public Memory<byte> Free
    {
        get
        {
            if (Start > 0 && End == Data.Length || Start == End)
            {
                Compact();
            }

            return Data.AsMemory(End);
        }
    }

    public void Consume(int n)
    {
        Start += n;
        if (Start == End)
        {
            Start = End = 0;
        }
    }

    public void Compact()
    {
        if (Start == 0)
        {
            return;
        }

        Buffer.BlockCopy(Data, Start, Data, 0, End - Start);
        End -= Start;
        Start = 0;
    }

    public void Dispose() => System.Buffers.ArrayPool<byte>.Shared.Return(Data);
}
