using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace HaLua.DataPlane.Config;

/// <summary>HAProxy's value formats: times, integers, addresses.</summary>
internal static class ConfigValues
{
    /// <summary>A time: a number with an optional unit (us, ms, s, m, h, d); milliseconds by default.</summary>
    public static bool TryParseTime(string s, out TimeSpan value)
    {
        value = default;
        int i = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
        }

        if (i == 0 || !long.TryParse(s.AsSpan(0, i), NumberStyles.None, CultureInfo.InvariantCulture, out long n))
        {
            return false;
        }

        double ms;
        switch (s[i..])
        {
            case "":
            case "ms":
                ms = n;
                break;
            case "us":
                ms = n / 1000.0;
                break;
            case "s":
                ms = n * 1000.0;
                break;
            case "m":
                ms = n * 60_000.0;
                break;
            case "h":
                ms = n * 3_600_000.0;
                break;
            case "d":
                ms = n * 86_400_000.0;
                break;
            default:
                return false;
        }

        if (ms > int.MaxValue)
        {
            return false;
        }

        value = TimeSpan.FromMilliseconds(ms);
        return true;
    }

    public static bool TryParseInt(string s, int min, int max, out int value)
        => int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value) && value >= min && value <= max;

    /// <summary>
    /// A listening address: <c>1.2.3.4:80</c>, <c>*:80</c>, <c>:80</c>, <c>[::1]:80</c>, <c>:::80</c>,
    /// with optional <c>ipv4@</c> / <c>ipv6@</c> prefixes.
    /// </summary>
    public static bool TryParseBind(string s, out IPEndPoint? endpoint, out string? error)
    {
        endpoint = null;
        error = null;
        AddressFamily? forced = null;
        if (s.StartsWith("ipv4@", StringComparison.Ordinal))
        {
            forced = AddressFamily.InterNetwork;
            s = s[5..];
        }
        else if (s.StartsWith("ipv6@", StringComparison.Ordinal))
        {
            forced = AddressFamily.InterNetworkV6;
            s = s[5..];
        }
        else if (s.Contains('@', StringComparison.Ordinal) || s.StartsWith('/'))
        {
            error = $"unsupported address family in '{s}' (only IPv4 and IPv6 are supported)";
            return false;
        }

        if (!SplitHostPort(s, out string host, out string? portText))
        {
            error = $"invalid address '{s}'";
            return false;
        }

        if (portText is null)
        {
            error = $"missing port number in '{s}'";
            return false;
        }

        if (portText.Contains('-', StringComparison.Ordinal))
        {
            error = $"port ranges are not supported ('{portText}')";
            return false;
        }

        if (!TryParseInt(portText, 1, 65535, out int port))
        {
            error = $"invalid port '{portText}'";
            return false;
        }

        IPAddress ip;
        if (host is "" or "*")
        {
            ip = forced == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
        }
        else if (!IPAddress.TryParse(host, out ip!))
        {
            error = $"invalid address '{host}' (a bind needs an IP address)";
            return false;
        }

        endpoint = new IPEndPoint(ip, port);
        return true;
    }

    /// <summary>Splits <c>host:port</c> / <c>[v6]:port</c> / <c>v6::addr:port</c>; port null when absent.</summary>
    public static bool SplitHostPort(string s, out string host, out string? port)
    {
        host = s;
        port = null;
        if (s.StartsWith('['))
        {
            int close = s.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                return false;
            }

            host = s[1..close];
            string rest = s[(close + 1)..];
            if (rest.Length == 0)
            {
                return true;
            }

            if (rest[0] != ':')
            {
                return false;
            }

            port = rest[1..];
            return true;
        }

        int colon = s.LastIndexOf(':');
        if (colon < 0)
        {
            return true;
        }

        host = s[..colon];
        port = s[(colon + 1)..];
        return true;
    }

    /// <summary>HAProxy's status code lists (<c>http-check expect status</c>): codes and ranges, comma-separated: <c>200,300-399</c>.</summary>
    public static bool TryParseStatusRanges(string s, out List<(int Low, int High)> ranges)
    {
        ranges = [];
        foreach (var part in s.Split(','))
        {
            int dash = part.IndexOf('-', StringComparison.Ordinal);
            string low = dash < 0 ? part : part[..dash];
            string high = dash < 0 ? part : part[(dash + 1)..];
            if (!int.TryParse(low, NumberStyles.None, CultureInfo.InvariantCulture, out int lo)
                || !int.TryParse(high, NumberStyles.None, CultureInfo.InvariantCulture, out int hi)
                || lo < 100 || hi > 999 || lo > hi)
            {
                return false;
            }

            ranges.Add((lo, hi));
        }

        return true;
    }
}
