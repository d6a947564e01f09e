using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace HaLua.DataPlane.Lua.Net;

/// <summary>Why an address given to <c>Socket.connect</c> (or the httpclient's <c>dst</c>) cannot be used.</summary>
internal enum AddressError
{
    None,

    /// <summary>Not an address HAProxy parses (a host name, an unknown prefix, a bad IP or port).</summary>
    Syntax,

    /// <summary>An IP address without a port (or with port 0 in the string).</summary>
    PortMissing,

    /// <summary>A port argument outside 1..65535: HAProxy tries and fails to connect.</summary>
    BadPort,
}

/// <summary>
/// HAProxy's address syntax for outgoing Lua connections (its <c>str2sa_range</c> for stream
/// sockets): <c>IP:PORT</c>, <c>[IPv6]:PORT</c>, the prefixes <c>ipv4@</c>, <c>ipv6@</c>,
/// <c>tcp@</c>, <c>tcp4@</c>, <c>tcp6@</c>, UNIX sockets as <c>unix@PATH</c> or <c>/PATH</c>, and
/// abstract sockets as <c>abns@NAME</c>. Host names are not resolved (HAProxy 2.6 refuses them
/// too); an empty host or <c>*</c> is the wildcard address.
/// </summary>
internal static class TargetAddress
{
    /// <summary>
    /// Parses <paramref name="text"/>. With <paramref name="port"/> the text holds the host only
    /// (as <c>connect(host, port)</c>); without it the port is the part after the last colon.
    /// </summary>
    public static AddressError TryParse(string text, long? port, out EndPoint? endpoint)
    {
        endpoint = null;
        if (text.StartsWith('/'))
        {
            endpoint = new UnixDomainSocketEndPoint(text);
            return AddressError.None;
        }

        AddressFamily? family = null;
        string rest = text;
        int at = text.IndexOf('@', StringComparison.Ordinal);
        if (at >= 0)
        {
            rest = text[(at + 1)..];
            switch (text[..at])
            {
                case "ipv4" or "tcp4":
                    family = AddressFamily.InterNetwork;
                    break;
                case "ipv6" or "tcp6":
                    family = AddressFamily.InterNetworkV6;
                    break;
                case "tcp":
                    break;
                case "unix" when rest.Length > 0:
                    endpoint = new UnixDomainSocketEndPoint(rest);
                    return AddressError.None;
                case "abns" when rest.Length > 0:
                    endpoint = new UnixDomainSocketEndPoint("\0" + rest);
                    return AddressError.None;
                default:
                    return AddressError.Syntax;
            }
        }

        string host;
        int portNumber;
        if (port is { } p)
        {
            host = Unbracket(rest);
            if (p < 0)
            {
                return AddressError.PortMissing;
            }

            if (p is 0 or > 65535)
            {
                return AddressError.BadPort;
            }

            portNumber = (int)p;
        }
        else
        {
            var error = SplitPort(rest, out host, out portNumber);
            if (error != AddressError.None)
            {
                return error;
            }
        }

        if (ParseHost(host, family) is not { } ip)
        {
            return AddressError.Syntax;
        }

        // A v4-mapped address reaches the IPv4 address (HAProxy's IPv6 sockets are dual-stack).
        endpoint = new IPEndPoint(ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip, portNumber);
        return AddressError.None;
    }

    /// <summary>What getpeername/getsockname show: "ip:port" ("[v6]:port"), or "unix" for a UNIX socket.</summary>
    public static string Display(EndPoint? endpoint) => endpoint switch
    {
        IPEndPoint ip => ip.ToString(),
        UnixDomainSocketEndPoint => "unix",
        _ => "",
    };

    private static AddressError SplitPort(string rest, out string host, out int port)
    {
        port = 0;
        string portText;
        if (rest.StartsWith('['))
        {
            int close = rest.IndexOf(']', StringComparison.Ordinal);
            host = close < 0 ? "" : rest[1..close];
            if (close < 0)
            {
                return AddressError.Syntax;
            }

            if (close == rest.Length - 1)
            {
                return AddressError.PortMissing;
            }

            if (rest[close + 1] != ':')
            {
                return AddressError.Syntax;
            }

            portText = rest[(close + 2)..];
        }
        else
        {
            int colon = rest.LastIndexOf(':');
            if (colon < 0)
            {
                host = rest;
                return AddressError.PortMissing;
            }

            host = rest[..colon];
            portText = rest[(colon + 1)..];
        }

        // Digits only; trailing blanks are tolerated as HAProxy's strtol-based parsing does.
        portText = portText.TrimEnd(' ', '\t');
        if (portText.Length == 0)
        {
            return AddressError.PortMissing;
        }

        if (portText.Length > 5 || !portText.All(char.IsAsciiDigit))
        {
            return AddressError.Syntax;
        }

        port = int.Parse(portText, CultureInfo.InvariantCulture);
        return port switch
        {
            0 => AddressError.PortMissing,
            > 65535 => AddressError.Syntax,
            _ => AddressError.None,
        };
    }

    private static string Unbracket(string host)
        => host.Length >= 2 && host[0] == '[' && host[^1] == ']' ? host[1..^1] : host;

    private static IPAddress? ParseHost(string host, AddressFamily? family)
    {
        if (host is "" or "*")
        {
            return family == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Any : IPAddress.Any;
        }

        if (host.Contains(':', StringComparison.Ordinal))
        {
            return family != AddressFamily.InterNetwork && IPAddress.TryParse(host, out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6 ? v6 : null;
        }

        return family != AddressFamily.InterNetworkV6 ? ParseDottedQuad(host) : null;
    }

    /// <summary>Four decimal numbers 0-255 without leading zeros (inet_pton): not "127.1" nor "0x7f000001".</summary>
    private static IPAddress? ParseDottedQuad(string host)
    {
        var parts = host.Split('.');
        if (parts.Length != 4)
        {
            return null;
        }

        Span<byte> bytes = stackalloc byte[4];
        for (int i = 0; i < 4; i++)
        {
            var part = parts[i];
            if (part.Length is 0 or > 3 || (part.Length > 1 && part[0] == '0') || !part.All(char.IsAsciiDigit))
            {
                return null;
            }

            int v = int.Parse(part, CultureInfo.InvariantCulture);
            if (v > 255)
            {
                return null;
            }

            bytes[i] = (byte)v;
        }

        return new IPAddress(bytes);
    }
}
