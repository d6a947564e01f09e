using System.Globalization;
using HaLua.DataPlane.Config;

namespace HaLua.DataPlane.Logging;

/// <summary>
/// Sends log lines to targets as HAProxy does: a syslog header in the target's format, the message
/// cut at the target's <c>len</c>, a final LF. UDP goes through a non-blocking socket per target (a
/// full socket buffer drops the line, as HAProxy drops it, instead of stalling the event loop);
/// stdout and stderr are written under one lock shared with the process's own messages.
/// </summary>
internal static class LogSink
{
    private static readonly Stream Stdout = Console.OpenStandardOutput();
    private static readonly Stream Stderr = Console.OpenStandardError();
    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    private static readonly byte[] Pid = System.Text.Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
    private static long s_dropped;

    [ThreadStatic]
    private static LogBuffer? t_packet;

    [ThreadStatic]
    private static long t_headerSecond;

    [ThreadStatic]
    private static byte[]? t_headerDate;

    /// <summary>Serializes every write to the console (log lines and the process's messages).</summary>
    public static Lock ConsoleLock { get; } = new();

    /// <summary>UDP lines dropped because the socket buffer was full.</summary>
    public static long Dropped => Interlocked.Read(ref s_dropped);

    /// <summary>Sends <paramref name="message"/> at <paramref name="level"/> to every target whose level lets it through.</summary>
    public static void Send(LogTarget[] targets, int level, ReadOnlySpan<byte> message, ReadOnlySpan<byte> tag)
    {
        var packet = t_packet ??= new LogBuffer();
        foreach (var t in targets)
        {
            if (level > t.MaxLevel)
            {
                continue;
            }

            packet.Clear();
            Frame(packet, t, level, message, tag);
            packet.Append((byte)'\n');
            Write(t, packet.Written);
        }
    }

    /// <summary>The line for <paramref name="t"/> without its final LF: header and message, at most <c>len</c> bytes.</summary>
    public static void Frame(LogBuffer into, LogTarget t, int level, ReadOnlySpan<byte> message, ReadOnlySpan<byte> tag)
    {
        int start = into.Length;
        WriteHeader(into, t, Math.Max(level, t.MinLevel), tag);
        into.Append(message);
        into.Truncate(start + t.MaxLength);
    }

    public static bool AnyAccepts(LogTarget[] targets, int level)
    {
        foreach (var t in targets)
        {
            if (level <= t.MaxLevel)
            {
                return true;
            }
        }

        return false;
    }

    private static void Write(LogTarget t, ReadOnlySpan<byte> packet)
    {
        switch (t.Kind)
        {
            case LogTargetKind.Stdout:
            case LogTargetKind.Stderr:
                lock (ConsoleLock)
                {
                    try
                    {
                        (t.Kind == LogTargetKind.Stdout ? Stdout : Stderr).Write(packet);
                    }
                    catch (IOException)
                    {
                        // a closed console loses the line, as in HAProxy
                    }
                }

                break;
            case LogTargetKind.Udp:
                if (!t.SendDatagram(packet))
                {
                    // syslog over UDP is best effort
                    Interlocked.Increment(ref s_dropped);
                }

                break;
        }
    }

    private static void WriteHeader(LogBuffer b, LogTarget t, int level, ReadOnlySpan<byte> tag)
    {
        int pri = t.Facility * 8 + level;
        switch (t.Format)
        {
            case SyslogFormat.Raw:
                return;
            case SyslogFormat.Short:
                Priority(b, level);
                return;
            case SyslogFormat.Priority:
                Priority(b, pri);
                return;
            case SyslogFormat.Iso:
                IsoDate(b);
                b.Append((byte)' ');
                return;
            case SyslogFormat.Timed:
                Priority(b, level);
                IsoDate(b);
                b.Append((byte)' ');
                return;
            case SyslogFormat.Rfc5424:
                // HAProxy sends "-" as the host name unless told to send one.
                Priority(b, pri);
                b.Append("1 "u8);
                IsoDate(b);
                b.Append(" - "u8);
                b.Append(tag);
                b.Append((byte)' ');
                b.Append(Pid);
                b.Append(" - - "u8);
                return;
            default:
                // rfc3164 and local: "<PRI>Mmm dd hh:mm:ss tag[pid]: ", no host name (HAProxy 2.6).
                Priority(b, pri);
                b.Append(LegacyDate());
                b.Append(tag);
                b.Append((byte)'[');
                b.Append(Pid);
                b.Append("]: "u8);
                return;
        }
    }

    private static void Priority(LogBuffer b, int value)
    {
        b.Append((byte)'<');
        b.AppendNumber(value);
        b.Append((byte)'>');
    }

    /// <summary>"Mmm dd hh:mm:ss " in local time, rebuilt once a second per thread.</summary>
    private static ReadOnlySpan<byte> LegacyDate()
    {
        long second = DateTime.UtcNow.Ticks / TimeSpan.TicksPerSecond;
        if (t_headerDate is null || second != t_headerSecond)
        {
            var now = DateTime.Now;
            var d = t_headerDate ??= new byte[16];
            string month = Months[now.Month - 1];
            d[0] = (byte)month[0];
            d[1] = (byte)month[1];
            d[2] = (byte)month[2];
            d[3] = (byte)' ';
            d[4] = now.Day < 10 ? (byte)' ' : (byte)('0' + now.Day / 10);
            d[5] = (byte)('0' + now.Day % 10);
            d[6] = (byte)' ';
            Two(d, 7, now.Hour);
            d[9] = (byte)':';
            Two(d, 10, now.Minute);
            d[12] = (byte)':';
            Two(d, 13, now.Second);
            d[15] = (byte)' ';
            t_headerSecond = second;
        }

        return t_headerDate;
    }

    private static void Two(byte[] d, int at, int v)
    {
        d[at] = (byte)('0' + v / 10);
        d[at + 1] = (byte)('0' + v % 10);
    }

    private static void IsoDate(LogBuffer b)
    {
        Span<char> text = stackalloc char[40];
        if (DateTimeOffset.Now.TryFormat(text, out int n, "yyyy-MM-ddTHH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture))
        {
            b.Append(text[..n]);
        }
    }

}
