using System.Globalization;
using System.Net;

namespace HaLua.DataPlane.Samples;

/// <summary>HAProxy's sample types.</summary>
internal enum SampleType { Bool, Int, Ip, Str }

/// <summary>A fetched or converted value.</summary>
internal readonly record struct Sample(SampleType Type, long Int = 0, IPAddress? Ip = null, string? Str = null)
{
    public static Sample FromBool(bool b) => new(SampleType.Bool, b ? 1 : 0);

    public static Sample FromInt(long i) => new(SampleType.Int, i);

    public static Sample FromIp(IPAddress ip) => new(SampleType.Ip, Ip: ip.IsIPv4MappedToIPv6 ? ip.MapToIPv4() : ip);

    public static Sample FromString(string s) => new(SampleType.Str, Str: s);

    public bool AsBool => Type switch
    {
        SampleType.Bool or SampleType.Int => Int != 0,
        SampleType.Str => !string.IsNullOrEmpty(Str),
        _ => true,
    };

    public string AsString => Type switch
    {
        SampleType.Str => Str ?? "",
        SampleType.Ip => Ip!.ToString(),
        _ => Int.ToString(CultureInfo.InvariantCulture),
    };

    public bool TryAsInt(out long value)
    {
        if (Type is SampleType.Int or SampleType.Bool)
        {
            value = Int;
            return true;
        }

        return long.TryParse(AsString, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);
    }

    public bool TryAsIp(out IPAddress? ip)
    {
        if (Type == SampleType.Ip)
        {
            ip = Ip;
            return true;
        }

        return IPAddress.TryParse(AsString, out ip);
    }
}

/// <summary>What fetches may read from the stream they run in.</summary>
internal interface ISampleContext
{
    IPEndPoint? Source { get; }

    IPEndPoint? Destination { get; }

    string FrontendName { get; }

    string? BackendName { get; }

    string? ServerName { get; }

    /// <summary>Bytes received from the client and not yet forwarded (req.len, req.payload).</summary>
    ReadOnlySpan<byte> RequestContent { get; }

    /// <summary>Usable servers of a backend by name (nbsrv); -1 if there is no such backend.</summary>
    int UsableServers(string backend);

    /// <summary>
    /// False while tcp-request inspect-delay still waits for request data: a content fetch that does
    /// not match yet gives "unknown" (HAProxy's ACL MISS) rather than "no".
    /// </summary>
    bool ContentFinal => true;

    /// <summary>The worker (event loop, Lua state of lua-load-per-thread) the stream runs on.</summary>
    int Worker => 0;

    /// <summary>The stream's variables (var(), Lua's set_var/get_var); process-wide ones only by default.</summary>
    Variables Variables => Variables.ProcessOnly;

    /// <summary>The stream's log values (timers, status, request line) for log-format variables; null when it keeps none.</summary>
    Logging.StreamLog? Log => null;
}
