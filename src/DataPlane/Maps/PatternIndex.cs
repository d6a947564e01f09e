using System.Text.RegularExpressions;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Maps;

/// <summary>
/// The entries of one reference indexed for one match method (HAProxy's pattern expression): an ACL
/// or converter using a file with <c>-m beg</c> and another with <c>-m str</c> share the entries
/// and have two indexes. The reference keeps every index in step with its entries and takes the
/// locks; an index is only ever touched under them.
/// </summary>
internal abstract class PatternIndex(PatternReference owner, MatchMethod method, bool ignoreCase)
{
    public PatternReference Owner { get; } = owner;

    public MatchMethod Method { get; } = method;

    /// <summary><c>-i</c>: keys and samples are compared lowercased (ASCII).</summary>
    public bool IgnoreCase { get; } = ignoreCase;

    /// <summary>The entry HAProxy would pick for the sample, or null. Safe from any thread.</summary>
    public PatternEntry? Match(in Sample sample)
    {
        int work = 0;
        return Owner.Find(this, sample, ref work);
    }

    /// <summary>As <see cref="Match(in Sample)"/>, and how many probes (hash lookups, tree characters, scanned entries) it took.</summary>
    internal PatternEntry? Match(in Sample sample, out int work)
    {
        work = 0;
        return Owner.Find(this, sample, ref work);
    }

    /// <summary>Adds an entry; a key that is not a valid pattern for the method throws <see cref="FormatException"/> and changes nothing.</summary>
    internal abstract void Add(PatternEntry entry);

    internal abstract void Remove(PatternEntry entry);

    internal abstract void Clear();

    /// <summary>Looks up without locking (the owner holds the read lock); <paramref name="work"/> counts probes.</summary>
    internal abstract PatternEntry? Find(in Sample sample, ref int work);

    /// <summary>The text a string method compares: the sample as a string, lowered with <c>-i</c>.</summary>
    protected string Text(in Sample sample) => IgnoreCase ? AsciiCase.Lower(sample.AsString) : sample.AsString;

    /// <summary>A key as a string method stores it.</summary>
    protected string Key(PatternEntry entry) => IgnoreCase ? AsciiCase.Lower(entry.Key) : entry.Key;

    public static PatternIndex Create(PatternReference owner, MatchMethod method, bool ignoreCase) => method switch
    {
        MatchMethod.Str => new StrIndex(owner, ignoreCase),
        MatchMethod.Beg or MatchMethod.End or MatchMethod.Dir or MatchMethod.Dom => new PrefixIndex(owner, method, ignoreCase),
        MatchMethod.Sub => new SubIndex(owner, ignoreCase),
        MatchMethod.Reg => new RegIndex(owner, ignoreCase),
        MatchMethod.Int or MatchMethod.Len => new IntIndex(owner, method),
        MatchMethod.Ip => new IpIndex(owner),
        _ => throw new ArgumentOutOfRangeException(nameof(method), method, "found and bool match without patterns"),
    };

    /// <summary>A list of entries with one key (or network, or number), oldest first: HAProxy answers with the first.</summary>
    protected static void AddTo<TKey>(Dictionary<TKey, List<PatternEntry>> buckets, TKey key, PatternEntry entry)
        where TKey : notnull
    {
        if (!buckets.TryGetValue(key, out var list))
        {
            buckets[key] = list = new List<PatternEntry>(1);
        }

        list.Add(entry);
    }

    protected static void RemoveFrom<TKey>(Dictionary<TKey, List<PatternEntry>> buckets, TKey key, PatternEntry entry)
        where TKey : notnull
    {
        if (buckets.TryGetValue(key, out var list) && list.Remove(entry) && list.Count == 0)
        {
            buckets.Remove(key);
        }
    }

    /// <summary>The older of two candidates (null counts as none).</summary>
    protected static PatternEntry? First(PatternEntry? a, PatternEntry? b) => a is null ? b : b is null || a.Seq <= b.Seq ? a : b;
}

/// <summary><c>str</c>: one hash lookup (the key lowered with <c>-i</c>).</summary>
internal sealed class StrIndex(PatternReference owner, bool ignoreCase) : PatternIndex(owner, MatchMethod.Str, ignoreCase)
{
    private readonly Dictionary<string, List<PatternEntry>> _buckets = new(StringComparer.Ordinal);

    /// <summary>Distinct keys (tests check the structure).</summary>
    internal int KeyCount => _buckets.Count;

    internal override void Add(PatternEntry entry) => AddTo(_buckets, Key(entry), entry);

    internal override void Remove(PatternEntry entry) => RemoveFrom(_buckets, Key(entry), entry);

    internal override void Clear() => _buckets.Clear();

    internal override PatternEntry? Find(in Sample sample, ref int work)
    {
        work++;
        return _buckets.TryGetValue(Text(sample), out var list) ? list[0] : null;
    }
}

/// <summary>
/// <c>sub</c>: every pattern is searched for in the sample, in file order, and the first found wins.
/// HAProxy scans too; a substring index would not pay for itself on the short lists this serves.
/// </summary>
internal sealed class SubIndex(PatternReference owner, bool ignoreCase) : PatternIndex(owner, MatchMethod.Sub, ignoreCase)
{
    private readonly List<(string Key, PatternEntry Entry)> _patterns = [];

    internal override void Add(PatternEntry entry) => _patterns.Add((Key(entry), entry));

    internal override void Remove(PatternEntry entry) => _patterns.RemoveAll(p => p.Entry == entry);

    internal override void Clear() => _patterns.Clear();

    internal override PatternEntry? Find(in Sample sample, ref int work)
    {
        string text = Text(sample);
        foreach (var (key, entry) in _patterns)
        {
            work++;
            if (text.Contains(key, StringComparison.Ordinal))
            {
                return entry;
            }
        }

        return null;
    }
}

/// <summary>
/// <c>reg</c>: .NET regular expressions tried in file order, the first that matches wins (HAProxy
/// scans too). Each match is limited to 100 ms; a match that runs out counts as no match.
/// </summary>
internal sealed class RegIndex(PatternReference owner, bool ignoreCase) : PatternIndex(owner, MatchMethod.Reg, ignoreCase)
{
    private static readonly TimeSpan MatchTimeout = TimeSpan.FromMilliseconds(100);

    private readonly List<(Regex Regex, PatternEntry Entry)> _patterns = [];

    internal override void Add(PatternEntry entry)
    {
        var options = RegexOptions.CultureInvariant
            | (IgnoreCase ? RegexOptions.IgnoreCase : 0);
        try
        {
            _patterns.Add((new Regex(entry.Key, options, MatchTimeout), entry));
        }
        catch (ArgumentException ex)
        {
            throw new FormatException($"invalid regex '{entry.Key}': {ex.Message}");
        }
    }

    internal override void Remove(PatternEntry entry) => _patterns.RemoveAll(p => p.Entry == entry);

    internal override void Clear() => _patterns.Clear();

    /// <summary>
    /// map_regm: the first entry whose regex matches, with its value's <c>\N</c> references replaced
    /// by the match's groups (HAProxy's backreferences; a group that did not take part is empty).
    /// </summary>
    internal string? FindAndSubstitute(string text)
    {
        foreach (var (regex, entry) in _patterns)
        {
            System.Text.RegularExpressions.Match m;
            try
            {
                m = regex.Match(text);
            }
            catch (RegexMatchTimeoutException)
            {
                continue;
            }

            if (!m.Success)
            {
                continue;
            }

            string value = entry.Value ?? "";
            var sb = new System.Text.StringBuilder(value.Length);
            for (int i = 0; i < value.Length; i++)
            {
                if (value[i] == '\\' && i + 1 < value.Length && char.IsAsciiDigit(value[i + 1]))
                {
                    sb.Append(m.Groups[value[i + 1] - '0'].Value);
                    i++;
                }
                else
                {
                    sb.Append(value[i]);
                }
            }

            return sb.ToString();
        }

        return null;
    }

    internal override PatternEntry? Find(in Sample sample, ref int work)
    {
        string text = sample.AsString;
        foreach (var (regex, entry) in _patterns)
        {
            work++;
            try
            {
                if (regex.IsMatch(text))
                {
                    return entry;
                }
            }
            catch (RegexMatchTimeoutException)
            {
                // too slow: no match, as a PCRE match limit would give
            }
        }

        return null;
    }
}
