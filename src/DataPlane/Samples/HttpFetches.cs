using System.Globalization;
using System.Text;

namespace HaLua.DataPlane.Samples;

/// <summary>What HTTP fetches read of the request being processed (an HTTP stream implements it).</summary>
internal interface IHttpRequestView
{
    ReadOnlySpan<byte> Method { get; }

    /// <summary>The request-target as received (origin form, absolute form, "*").</summary>
    ReadOnlySpan<byte> Target { get; }

    /// <summary>10 or 11.</summary>
    int Version { get; }

    HttpHeaderView Headers { get; }

    /// <summary>The request body as far as it was waited for (option http-buffer-request), de-chunked; empty otherwise.</summary>
    ReadOnlySpan<byte> Body => default;
}

/// <summary>What response fetches read of the response being processed (http-response rules).</summary>
internal interface IHttpResponseView
{
    /// <summary>The status, or 0 when there is no response yet.</summary>
    int ResponseStatus { get; }

    HttpHeaderView ResponseHeaders { get; }
}

/// <summary>The header fields of a parsed head, over the bytes it was parsed from.</summary>
internal readonly ref struct HttpHeaderView(HaLua.DataPlane.Http.HttpHead? head, ReadOnlySpan<byte> bytes)
{
    private readonly ReadOnlySpan<byte> _bytes = bytes;

    public int Count => head?.FieldCount ?? 0;

    public ReadOnlySpan<byte> Name(int index) => head!.Fields[index].Name(_bytes);

    public ReadOnlySpan<byte> Value(int index) => head!.Fields[index].Value(_bytes);
}

/// <summary>
/// HAProxy's HTTP request fetches: method, path, query, url, base, req.ver, hdr/req.hdr and
/// req.fhdr (with occurrence; hdr splits comma-separated values, fhdr does not), req.hdr_cnt.
/// Outside an HTTP stream they give no sample.
/// </summary>
internal static class HttpFetches
{
    public static void Register(SampleRegistry r)
    {
        r.Add(new FetchDescriptor("status", 0, 0, SampleType.Int, (ISampleContext c, IReadOnlyList<string> a, out Sample v) =>
        {
            v = c is IHttpResponseView { ResponseStatus: > 0 } h ? Sample.FromInt(h.ResponseStatus) : default;
            return c is IHttpResponseView { ResponseStatus: > 0 };
        }));
        r.Add(new FetchDescriptor("res.hdr", 0, 2, SampleType.Str, (ISampleContext c, IReadOnlyList<string> a, out Sample v) =>
        {
            v = default;
            if (c is not IHttpResponseView { ResponseStatus: > 0 } h)
            {
                return false;
            }

            return Header(h.ResponseHeaders, a, splitCommas: true, out v);
        }));
        r.Add(new FetchDescriptor("req.body", 0, 0, SampleType.Str, (ISampleContext c, IReadOnlyList<string> a, out Sample v) =>
        {
            v = c is IHttpRequestView h ? Sample.FromString(Encoding.Latin1.GetString(h.Body)) : default;
            return c is IHttpRequestView;
        }));
        r.Add(new FetchDescriptor("req.body_len", 0, 0, SampleType.Int, (ISampleContext c, IReadOnlyList<string> a, out Sample v) =>
        {
            v = c is IHttpRequestView h ? Sample.FromInt(h.Body.Length) : default;
            return c is IHttpRequestView;
        }));
        r.Add(new FetchDescriptor("method", 0, 0, SampleType.Str, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Str(c, h => h.Method, out v)));
        r.Add(new FetchDescriptor("url", 0, 0, SampleType.Str, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Str(c, h => h.Target, out v)));
        r.Add(new FetchDescriptor("path", 0, 0, SampleType.Str, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Str(c, h => Path(h.Target), out v)));
        r.Add(new FetchDescriptor("query", 0, 0, SampleType.Str, (ISampleContext c, IReadOnlyList<string> a, out Sample v) =>
        {
            v = default;
            if (c is not IHttpRequestView h)
            {
                return false;
            }

            int q = h.Target.IndexOf((byte)'?');
            if (q < 0)
            {
                return false;
            }

            v = Sample.FromString(Latin1(h.Target[(q + 1)..]));
            return true;
        }));
        r.Add(new FetchDescriptor("base", 0, 0, SampleType.Str, (ISampleContext c, IReadOnlyList<string> a, out Sample v) =>
        {
            v = default;
            if (c is not IHttpRequestView h)
            {
                return false;
            }

            var host = Occurrence(h.Headers, "host", -1, splitCommas: false);
            v = Sample.FromString((host ?? "") + Latin1(Path(h.Target)));
            return true;
        }));
        r.Add(new FetchDescriptor("req.ver", 0, 0, SampleType.Str, (ISampleContext c, IReadOnlyList<string> a, out Sample v) =>
        {
            v = c is IHttpRequestView h ? Sample.FromString(h.Version == 10 ? "1.0" : "1.1") : default;
            return c is IHttpRequestView;
        }));
        foreach (var name in new[] { "hdr", "req.hdr" })
        {
            r.Add(new FetchDescriptor(name, 0, 2, SampleType.Str, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Header(c, a, splitCommas: true, out v)));
        }

        r.Add(new FetchDescriptor("req.fhdr", 0, 2, SampleType.Str, (ISampleContext c, IReadOnlyList<string> a, out Sample v) => Header(c, a, splitCommas: false, out v)));
        foreach (var name in new[] { "hdr_cnt", "req.hdr_cnt" })
        {
            r.Add(new FetchDescriptor(name, 0, 1, SampleType.Int, (ISampleContext c, IReadOnlyList<string> a, out Sample v) =>
            {
                v = default;
                if (c is not IHttpRequestView h)
                {
                    return false;
                }

                v = Sample.FromInt(Values(h.Headers, a.Count > 0 ? a[0] : null, splitCommas: true).Count);
                return true;
            }));
        }
    }

    /// <summary>The path of a request-target: origin form up to '?', or the path of an absolute URI.</summary>
    public static ReadOnlySpan<byte> Path(ReadOnlySpan<byte> target)
    {
        if (target.Length > 0 && target[0] != (byte)'/')
        {
            int scheme = target.IndexOf("://"u8);
            if (scheme < 0)
            {
                return default;
            }

            var afterAuthority = target[(scheme + 3)..];
            int slash = afterAuthority.IndexOf((byte)'/');
            target = slash < 0 ? default : afterAuthority[slash..];
        }

        int q = target.IndexOf((byte)'?');
        return q < 0 ? target : target[..q];
    }

    private delegate ReadOnlySpan<byte> SpanOf(IHttpRequestView h);

    private static bool Str(ISampleContext c, SpanOf pick, out Sample v)
    {
        if (c is IHttpRequestView h)
        {
            v = Sample.FromString(Latin1(pick(h)));
            return true;
        }

        v = default;
        return false;
    }

    private static bool Header(ISampleContext c, IReadOnlyList<string> a, bool splitCommas, out Sample v)
    {
        v = default;
        return c is IHttpRequestView h && Header(h.Headers, a, splitCommas, out v);
    }

    /// <summary>hdr(NAME[,OCC]) over a request's or a response's fields.</summary>
    private static bool Header(HttpHeaderView h, IReadOnlyList<string> a, bool splitCommas, out Sample v)
    {
        v = default;
        int occ = -1;
        if (a.Count > 1 && !int.TryParse(a[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out occ))
        {
            return false;
        }

        var value = Occurrence(h, a.Count > 0 ? a[0] : null, occ, splitCommas);
        if (value is null)
        {
            return false;
        }

        v = Sample.FromString(value);
        return true;
    }

    /// <summary>The occ-th value (1-based; negative counts from the last; 0 is the last too).</summary>
    internal static string? Occurrence(HttpHeaderView h, string? name, int occ, bool splitCommas)
    {
        var values = Values(h, name, splitCommas);
        if (values.Count == 0)
        {
            return null;
        }

        int index = occ > 0 ? occ - 1 : values.Count + (occ == 0 ? -1 : occ);
        return (uint)index < (uint)values.Count ? values[index] : null;
    }

    private static List<string> Values(HttpHeaderView h, string? name, bool splitCommas)
    {
        var result = new List<string>();
        var wanted = name is null ? default : Encoding.ASCII.GetBytes(name);
        for (int i = 0; i < h.Count; i++)
        {
            if (name is not null && !Ascii.EqualsIgnoreCase(h.Name(i), wanted))
            {
                continue;
            }

            var value = h.Value(i);
            if (!splitCommas)
            {
                result.Add(Latin1(value));
                continue;
            }

            while (true)
            {
                int comma = value.IndexOf((byte)',');
                var part = (comma < 0 ? value : value[..comma]).Trim(" \t"u8);
                result.Add(Latin1(part));
                if (comma < 0)
                {
                    break;
                }

                value = value[(comma + 1)..];
            }
        }

        return result;
    }

    private static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);
}
