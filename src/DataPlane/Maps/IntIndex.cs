using System.Globalization;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Maps;

/// <summary>
/// <c>int</c> (the sample as an integer) and <c>len</c> (the sample's length). Keys are <c>N</c>,
/// or ranges <c>LO:HI</c>, <c>LO:</c>, <c>:HI</c>. Single numbers are hashed; ranges are scanned
/// in file order, as HAProxy scans all of them. The first match in file order wins.
/// </summary>
internal sealed class IntIndex(PatternReference owner, MatchMethod method) : PatternIndex(owner, method, ignoreCase: false)
{
    private readonly Dictionary<long, List<PatternEntry>> _values = [];
    private readonly List<(long Lo, long Hi, PatternEntry Entry)> _ranges = [];

    internal override void Add(PatternEntry entry)
    {
        var (lo, hi) = ParseRange(entry.Key);
        if (lo == hi)
        {
            AddTo(_values, lo, entry);
        }
        else
        {
            _ranges.Add((lo, hi, entry));
        }
    }

    internal override void Remove(PatternEntry entry)
    {
        var (lo, hi) = ParseRange(entry.Key);
        if (lo == hi)
        {
            RemoveFrom(_values, lo, entry);
        }
        else
        {
            _ranges.RemoveAll(r => r.Entry == entry);
        }
    }

    internal override void Clear()
    {
        _values.Clear();
        _ranges.Clear();
    }

    internal override PatternEntry? Find(in Sample sample, ref int work)
    {
        long x;
        if (Method == MatchMethod.Len)
        {
            x = sample.AsString.Length;
        }
        else if (!sample.TryAsInt(out x))
        {
            return null;
        }

        work++;
        PatternEntry? best = _values.TryGetValue(x, out var list) ? list[0] : null;
        foreach (var (lo, hi, entry) in _ranges)
        {
            if (best is not null && entry.Seq > best.Seq)
            {
                break;
            }

            work++;
            if (x >= lo && x <= hi)
            {
                return entry;
            }
        }

        return best;
    }

    /// <summary>An integer pattern: <c>N</c>, <c>LO:HI</c>, <c>LO:</c> or <c>:HI</c> (both ends included).</summary>
    public static (long Lo, long Hi) ParseRange(string key)
    {
        int colon = key.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            long n = ParseLong(key);
            return (n, n);
        }

        long lo = colon == 0 ? long.MinValue : ParseLong(key[..colon]);
        long hi = colon == key.Length - 1 ? long.MaxValue : ParseLong(key[(colon + 1)..]);
        if (colon == 0 && colon == key.Length - 1)
        {
            throw new FormatException($"'{key}' is not a valid integer");
        }

        return (lo, hi);
    }

    public static long ParseLong(string s) => long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)
        ? v
        : throw new FormatException($"'{s}' is not a valid integer");
}
