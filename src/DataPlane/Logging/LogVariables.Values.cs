using System.Net;

namespace HaLua.DataPlane.Logging;

/// <summary>How values are written: text with HAProxy's options, numbers, addresses, dates, the request line.</summary>
internal static partial class LogVariables
{
    /// <summary>A text value with HAProxy's options: quotes, '\' escapes, and "-" for a missing value (M without Q).</summary>
    public static void WriteText(LogBuffer b, ReadOnlySpan<char> text, LogOptions o)
    {
        Quoted(b, o);
        if (text.IsEmpty)
        {
            Missing(b, o);
        }
        else if ((o & LogOptions.Escape) == 0)
        {
            b.Append(text);
        }
        else
        {
            int special;
            while ((special = text.IndexOfAny("\"\\]")) >= 0)
            {
                b.Append(text[..special]);
                b.Append((byte)'\\');
                b.Append((byte)text[special]);
                text = text[(special + 1)..];
            }

            b.Append(text);
        }

        Quoted(b, o);
    }

    private static void WriteText(LogBuffer b, ReadOnlySpan<byte> text, LogOptions o)
    {
        Quoted(b, o);
        if (text.IsEmpty)
        {
            Missing(b, o);
        }

        foreach (byte c in text)
        {
            if ((o & LogOptions.Escape) != 0 && c is (byte)'"' or (byte)'\\' or (byte)']')
            {
                b.Append((byte)'\\');
            }

            b.Append(c);
        }

        Quoted(b, o);
    }

    private static void Missing(LogBuffer b, LogOptions o)
    {
        if ((o & (LogOptions.Mandatory | LogOptions.Quote)) == LogOptions.Mandatory)
        {
            b.Append((byte)'-');
        }
    }

    private static void Quoted(LogBuffer b, LogOptions o)
    {
        if ((o & LogOptions.Quote) != 0)
        {
            b.Append((byte)'"');
        }
    }

    private static void Number(LogBuffer b, long value, bool hex, int hexDigits)
    {
        if (hex)
        {
            b.AppendHex((ulong)value, hexDigits);
        }
        else
        {
            b.AppendNumber(value);
        }
    }

    private static void Address(LogBuffer b, IPAddress? address, LogOptions o)
    {
        if (address is null)
        {
            WriteText(b, ReadOnlySpan<char>.Empty, o);
            return;
        }

        // In hexadecimal HAProxy writes the address bare, without quotes.
        bool hex = (o & LogOptions.Hex) != 0;
        var quote = hex ? LogOptions.None : o;
        Quoted(b, quote);
        b.Append(address, hex);
        Quoted(b, quote);
    }

    private static void Port(LogBuffer b, IPEndPoint? endpoint, LogOptions o)
    {
        if (endpoint is null)
        {
            WriteText(b, ReadOnlySpan<char>.Empty, o);
            return;
        }

        Number(b, endpoint.Port, (o & LogOptions.Hex) != 0, 4);
    }

    private static long When(StreamLog? log, bool request)
        => log is null ? DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() : request ? log.RequestUnixMs : log.StartUnixMs;

    private static long Timer(StreamLog? log, LogVariable v)
    {
        if (log is null)
        {
            return v == LogVariable.Th ? 0 : -1;
        }

        var t = log.GetTimers();
        return v switch
        {
            LogVariable.Th => t.Th,
            LogVariable.Ti => t.Ti,
            LogVariable.TR => t.TR,
            LogVariable.Tq => t.Tq,
            LogVariable.Tw => t.Tw,
            LogVariable.Tc => t.Tc,
            LogVariable.Tr => t.Tr,
            LogVariable.Td => t.Td,
            LogVariable.Ta => t.Ta,
            LogVariable.Tt => t.Tt,
            _ => t.Tu,
        };
    }

    /// <summary>"dd/Mmm/yyyy:HH:mm:ss" then ".mmm" (%t, %tr) or " +hhmm" (%T, %Tl...).</summary>
    private static void Date(LogBuffer b, DateTimeOffset d, bool millis, bool zone)
    {
        b.AppendPadded(d.Day, 2);
        b.Append((byte)'/');
        b.Append(Months[d.Month - 1]);
        b.Append((byte)'/');
        b.AppendPadded(d.Year, 4);
        b.Append((byte)':');
        b.AppendPadded(d.Hour, 2);
        b.Append((byte)':');
        b.AppendPadded(d.Minute, 2);
        b.Append((byte)':');
        b.AppendPadded(d.Second, 2);
        if (millis)
        {
            b.Append((byte)'.');
            b.AppendPadded(d.Millisecond, 3);
        }

        if (zone)
        {
            int minutes = (int)d.Offset.TotalMinutes;
            b.Append((byte)' ');
            b.Append((byte)(minutes < 0 ? '-' : '+'));
            minutes = Math.Abs(minutes);
            b.AppendPadded(minutes / 60, 2);
            b.AppendPadded(minutes % 60, 2);
        }
    }

    /// <summary>
    /// %r and its parts, taken from the captured request line as HAProxy takes them: %HM up to the
    /// first blank, %HU the target, %HP the target up to '?', %HQ from '?' (with it), %HV the
    /// version; "&lt;BADREQ&gt;" when no request line was received. Non-printable bytes, '"' and
    /// '#' are written "#XX".
    /// </summary>
    private static void RequestPart(LogBuffer b, LogVariable v, LogOptions o, StreamLog? log)
    {
        Quoted(b, o);
        if (log is not { HasRequestLine: true })
        {
            b.Append("<BADREQ>"u8);
            Quoted(b, o);
            return;
        }

        var line = log.RequestLine;
        int sp1 = line.IndexOf((byte)' ');
        int sp2 = sp1 < 0 ? -1 : line.LastIndexOf((byte)' ');
        var method = sp1 < 0 ? line : line[..sp1];
        var target = sp1 < 0 ? default : line[(sp1 + 1)..(sp2 > sp1 ? sp2 : line.Length)];
        var version = sp2 > sp1 ? line[(sp2 + 1)..] : default;
        int q = target.IndexOf((byte)'?');
        ReadOnlySpan<byte> part = v switch
        {
            LogVariable.Request => line,
            LogVariable.Method => method,
            LogVariable.Uri => target,
            LogVariable.Path => q < 0 ? target : target[..q],
            LogVariable.PathOnly => PathOnly(q < 0 ? target : target[..q]),
            LogVariable.Query => q < 0 ? default : target[q..],
            _ => version,
        };
        foreach (byte c in part)
        {
            if (c < 32 || c >= 127 || c is (byte)'"' or (byte)'#')
            {
                b.Append((byte)'#');
                b.AppendHex(c, 2);
            }
            else
            {
                if ((o & LogOptions.Escape) != 0 && c is (byte)'\\' or (byte)']')
                {
                    b.Append((byte)'\\');
                }

                b.Append(c);
            }
        }

        Quoted(b, o);
    }

    /// <summary>The path of an absolute-form target ("http://host/path" gives "/path").</summary>
    private static ReadOnlySpan<byte> PathOnly(ReadOnlySpan<byte> target)
    {
        int scheme = target.IndexOf("://"u8);
        if (scheme < 0)
        {
            return target;
        }

        var rest = target[(scheme + 3)..];
        int slash = rest.IndexOf((byte)'/');
        return slash < 0 ? "/"u8 : rest[slash..];
    }
}
