using System.Collections.Frozen;
using System.Globalization;
using System.Net;
using HaLua.DataPlane.Maps;

namespace HaLua.DataPlane.Samples;

/// <summary>A sample fetch: reads a value from the stream; false when there is none.</summary>
internal delegate bool SampleFetch(ISampleContext ctx, IReadOnlyList<string> args, out Sample value);

/// <summary>A converter: transforms a value; false when it cannot.</summary>
internal delegate bool SampleConverter(ISampleContext ctx, ref Sample value, IReadOnlyList<string> args);

internal sealed record FetchDescriptor(string Name, int MinArgs, int MaxArgs, SampleType Output, SampleFetch Fetch)
{
    /// <summary>Reads the request contents, which may still grow during tcp-request inspect-delay.</summary>
    public bool DependsOnContent { get; init; }

    /// <summary>Reads the HTTP request or response being processed (HAProxy refuses these in log-format).</summary>
    public bool NeedsMessage { get; init; }
}

/// <summary>A converter and the type it outputs (what an ACL on the expression matches by default).</summary>
internal sealed record ConverterDescriptor(string Name, int MinArgs, int MaxArgs, SampleConverter Convert, SampleType Output = SampleType.Str)
{
    /// <summary>
    /// Binds the arguments once when a configuration expression is compiled (a map converter reads
    /// its file there); throws <see cref="FormatException"/> for bad arguments. Without it, or
    /// from Lua, <see cref="Convert"/> reads the arguments at each call.
    /// </summary>
    public Func<string[], SampleConverter>? Compile { get; init; }
}

/// <summary>
/// The one registry of fetches and converters: config expressions, ACLs and Lua's txn.f / txn.c
/// all look names up here; Lua's core.register_fetches / register_converters add <c>lua.NAME</c>.
/// </summary>
internal sealed class SampleRegistry
{
    private readonly Dictionary<string, FetchDescriptor> _fetches = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ConverterDescriptor> _converters = new(StringComparer.Ordinal);
    private FrozenDictionary<string, FetchDescriptor>? _frozenFetches;
    private FrozenDictionary<string, ConverterDescriptor>? _frozenConverters;

    /// <summary>The ACL files and maps of this generation: ACL <c>-f</c>, the map converters and Lua's Map share them.</summary>
    public PatternStore Patterns { get; } = new();

    public static SampleRegistry CreateDefault()
    {
        var r = new SampleRegistry();
        BuiltinFetches.Register(r);
        var layer4 = r._fetches.Keys.ToHashSet(StringComparer.Ordinal);
        HttpFetches.Register(r);
        foreach (var f in r._fetches.Values.Where(f => !layer4.Contains(f.Name)).ToList())
        {
            r._fetches[f.Name] = f with { NeedsMessage = true };
        }

        BuiltinConverters.Register(r);
        MoreConverters.Register(r);
        MapConverters.Register(r);
        return r;
    }

    public void Add(FetchDescriptor f)
    {
        _fetches[f.Name] = f;
        _frozenFetches = null;
    }

    public void Add(ConverterDescriptor c)
    {
        _converters[c.Name] = c;
        _frozenConverters = null;
    }

    public FetchDescriptor? FindFetch(string name)
    {
        var d = _frozenFetches ??= _fetches.ToFrozenDictionary(StringComparer.Ordinal);
        return d.GetValueOrDefault(name);
    }

    public ConverterDescriptor? FindConverter(string name)
    {
        var d = _frozenConverters ??= _converters.ToFrozenDictionary(StringComparer.Ordinal);
        return d.GetValueOrDefault(name);
    }

    /// <summary>Fetch names in a stable order (Lua's Fetches class gets one method per name).</summary>
    public IReadOnlyList<string> FetchNames => [.. _fetches.Keys.Where(k => !k.StartsWith("lua.", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];

    public IReadOnlyList<string> ConverterNames => [.. _converters.Keys.Where(k => !k.StartsWith("lua.", StringComparison.Ordinal)).Order(StringComparer.Ordinal)];
}

/// <summary>Layer-4 and internal-state fetches.</summary>
internal static class BuiltinFetches
{
    public static void Register(SampleRegistry r)
    {
        r.Add(new FetchDescriptor("src", 0, 0, SampleType.Ip, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Ip(c.Source?.Address, out v)));
        r.Add(new FetchDescriptor("dst", 0, 0, SampleType.Ip, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Ip(c.Destination?.Address, out v)));
        r.Add(new FetchDescriptor("src_port", 0, 0, SampleType.Int, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Int(c.Source?.Port, out v)));
        r.Add(new FetchDescriptor("dst_port", 0, 0, SampleType.Int, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Int(c.Destination?.Port, out v)));
        r.Add(new FetchDescriptor("fe_name", 0, 0, SampleType.Str, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Str(c.FrontendName, out v)));
        r.Add(new FetchDescriptor("be_name", 0, 0, SampleType.Str, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Str(c.BackendName, out v)));
        r.Add(new FetchDescriptor("srv_name", 0, 0, SampleType.Str, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Str(c.ServerName, out v)));
        r.Add(new FetchDescriptor("env", 1, 1, SampleType.Str, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Str(Environment.GetEnvironmentVariable(a[0]), out v)));
        r.Add(new FetchDescriptor("always_true", 0, 0, SampleType.Bool, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Const(Sample.FromBool(true), out v)));
        r.Add(new FetchDescriptor("always_false", 0, 0, SampleType.Bool, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Const(Sample.FromBool(false), out v)));
        r.Add(new FetchDescriptor("int", 1, 1, SampleType.Int, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Int(long.TryParse(a[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long i) ? i : null, out v)));
        r.Add(new FetchDescriptor("str", 1, 1, SampleType.Str, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Str(a[0], out v)));
        r.Add(new FetchDescriptor("req.len", 0, 0, SampleType.Int, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Int(c.RequestContent.Length, out v)) { DependsOnContent = true });
        r.Add(new FetchDescriptor("req_len", 0, 0, SampleType.Int, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Int(c.RequestContent.Length, out v)) { DependsOnContent = true });
        r.Add(new FetchDescriptor("nbsrv", 0, 1, SampleType.Int, (ISampleContext c, IReadOnlyList<string> a, out Sample v) =>
        {
            string? be = a.Count > 0 ? a[0] : c.BackendName;
            int n = be is null ? -1 : c.UsableServers(be);
            return Int(n < 0 ? null : n, out v);
        }));
        r.Add(new FetchDescriptor("var", 1, 1, SampleType.Str, (ISampleContext c, IReadOnlyList<string> a, out Sample v) =>
        {
            v = default;
            return Variables.TryParse(a[0], out var scope, out var name) && c.Variables.TryGet(scope, name, out v);
        }));
        r.Add(new FetchDescriptor("rand", 0, 1, SampleType.Int, (ISampleContext c, IReadOnlyList<string> a, out Sample v) =>
        {
            long range = a.Count > 0 && long.TryParse(a[0], CultureInfo.InvariantCulture, out long x) ? x : uint.MaxValue + 1L;
            return Int(Random.Shared.NextInt64(Math.Max(1, range)), out v);
        }));
        r.Add(new FetchDescriptor("date", 0, 1, SampleType.Int, (ISampleContext c, IReadOnlyList<string> a, out Sample v) =>
        {
            long off = a.Count > 0 && long.TryParse(a[0], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long x) ? x : 0;
            return Int(DateTimeOffset.UtcNow.ToUnixTimeSeconds() + off, out v);
        }));
    }

    private static bool Ip(IPAddress? ip, out Sample v)
    {
        v = ip is null ? default : Sample.FromIp(ip);
        return ip is not null;
    }

    private static bool Int(long? i, out Sample v)
    {
        v = i is { } x ? Sample.FromInt(x) : default;
        return i is not null;
    }

    private static bool Str(string? s, out Sample v)
    {
        v = s is null ? default : Sample.FromString(s);
        return s is not null;
    }

    private static bool Const(Sample s, out Sample v)
    {
        v = s;
        return true;
    }
}

/// <summary>Converters usable in TCP mode.</summary>
internal static class BuiltinConverters
{
    public static void Register(SampleRegistry r)
    {
        r.Add(new ConverterDescriptor("lower", 0, 0, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => SetStr(ref v, v.AsString.ToLowerInvariant())));
        r.Add(new ConverterDescriptor("upper", 0, 0, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => SetStr(ref v, v.AsString.ToUpperInvariant())));
        r.Add(new ConverterDescriptor("length", 0, 0, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) =>
        {
            v = Sample.FromInt(v.AsString.Length);
            return true;
        }, SampleType.Int));
        // utime(FORMAT[,OFFSET]) / ltime: an epoch time in seconds (plus OFFSET) formatted by strftime, in UTC / local time.
        r.Add(new ConverterDescriptor("utime", 1, 2, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Time(ref v, a, local: false)));
        r.Add(new ConverterDescriptor("ltime", 1, 2, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Time(ref v, a, local: true)));
        r.Add(new ConverterDescriptor("ipmask", 1, 2, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) =>
        {
            if (!v.TryAsIp(out var ip) || ip is null)
            {
                return false;
            }

            string mask = ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? a[0] : (a.Count > 1 ? a[1] : "128");
            var net = Network.Parse(ip + "/" + mask);
            if (net is null)
            {
                return false;
            }

            v = Sample.FromIp(net.Value.Masked);
            return true;
        }, SampleType.Ip));
    }

    private static bool Time(ref Sample v, IReadOnlyList<string> a, bool local)
    {
        if (!v.TryAsInt(out long epoch))
        {
            return false;
        }

        if (a.Count > 1 && long.TryParse(a[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long offset))
        {
            epoch += offset;
        }

        DateTimeOffset at;
        try
        {
            at = DateTimeOffset.FromUnixTimeSeconds(epoch);
        }
        catch (ArgumentOutOfRangeException)
        {
            return false;
        }

        string zone = "GMT";
        if (local)
        {
            var tz = TimeZoneInfo.Local;
            at = TimeZoneInfo.ConvertTime(at, tz);
            zone = tz.Id == "UTC" || tz.Id == "Etc/UTC" ? "UTC" : tz.IsDaylightSavingTime(at) ? tz.DaylightName : tz.StandardName;
        }

        v = Sample.FromString(Strftime.Format(a[0], at.DateTime, at.Offset, zone, epoch));
        return true;
    }

    private static bool SetStr(ref Sample v, string s)
    {
        v = Sample.FromString(s);
        return true;
    }
}
