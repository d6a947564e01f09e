using System.Globalization;
using System.Net;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Maps;

/// <summary>
/// HAProxy's pattern reference: the entries of one ACL file or map, whatever uses it. Every ACL
/// <c>-f</c>, map converter and Lua <c>Map</c> naming the same file shares one reference, so a change
/// made at runtime (Lua's <c>core.set_map</c>, the control plane) is seen by all at once.
/// Each match method in use has an index over the entries (<see cref="PatternIndex"/>), kept in
/// step on every change. Lookups take a read lock, changes a write lock (HAProxy's pat_ref lock).
/// </summary>
internal sealed partial class PatternReference
{
    private readonly ReaderWriterLockSlim? _lock;
    private readonly LinkedList<PatternEntry> _entries = new();
    private readonly Dictionary<string, List<LinkedListNode<PatternEntry>>> _byKey = new(StringComparer.Ordinal);
    private PatternIndex[] _indexes = [];
    private long _nextSeq;
    private bool _intValues;
    private bool _ipValues;

    /// <param name="name">The file name as written (the key of the reference).</param>
    /// <param name="isMap">Two columns (key and value) rather than one (a pattern).</param>
    /// <param name="shared">False for the inline patterns of one ACL: nothing changes them, so lookups need no lock.</param>
    public PatternReference(string name, bool isMap, bool shared)
    {
        Name = name;
        IsMap = isMap;
        _lock = shared ? new ReaderWriterLockSlim(LockRecursionPolicy.NoRecursion) : null;
    }

    public string Name { get; }

    /// <summary>A map (key and value per line) rather than an ACL file (one pattern per line).</summary>
    public bool IsMap { get; }

    public int Count
    {
        get
        {
            EnterRead();
            try
            {
                return _entries.Count;
            }
            finally
            {
                ExitRead();
            }
        }
    }

    /// <summary>The index of the entries for a match method, made (and kept from then on) at first use.</summary>
    /// <exception cref="FormatException">An entry is not a valid pattern for the method; names the file line.</exception>
    public PatternIndex GetIndex(MatchMethod method, bool ignoreCase)
    {
        ignoreCase &= method.IsTextual();

        // The common case (Lua's txn.c:map_*() asks at each call) needs no lock: the array is replaced, never changed.
        if (Existing(Volatile.Read(ref _indexes), method, ignoreCase) is { } known)
        {
            return known;
        }

        EnterWrite();
        try
        {
            if (Existing(_indexes, method, ignoreCase) is { } existing)
            {
                return existing;
            }

            var index = PatternIndex.Create(this, method, ignoreCase);
            foreach (var e in _entries)
            {
                try
                {
                    index.Add(e);
                }
                catch (FormatException ex)
                {
                    throw new FormatException(e.Line > 0 ? $"{ex.Message} at line {e.Line} of file '{Name}'" : ex.Message);
                }
            }

            Volatile.Write(ref _indexes, [.. _indexes, index]);
            return index;
        }
        finally
        {
            ExitWrite();
        }
    }

    private static PatternIndex? Existing(PatternIndex[] indexes, MatchMethod method, bool ignoreCase)
    {
        foreach (var index in indexes)
        {
            if (index.Method == method && index.IgnoreCase == ignoreCase)
            {
                return index;
            }
        }

        return null;
    }

    /// <summary>
    /// A converter will turn values into integers or addresses (map_*_int, map_*_ip): every value
    /// must parse, now and when set later.
    /// </summary>
    /// <exception cref="FormatException">A value does not parse; names the file line.</exception>
    public void RequireValues(SampleType type)
    {
        EnterWrite();
        try
        {
            foreach (var e in _entries)
            {
                if (!TryValue(e.Value ?? "", type, out _))
                {
                    throw new FormatException($"unable to parse '{e.Value}'{(e.Line > 0 ? $" at line {e.Line}" : "")} of file '{Name}'");
                }
            }

            _intValues |= type == SampleType.Int;
            _ipValues |= type == SampleType.Ip;
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <summary>A map value as a sample of the converter's output type (str, int or ip).</summary>
    public static bool TryValue(string value, SampleType type, out Sample sample)
    {
        switch (type)
        {
            case SampleType.Int when long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long i):
                sample = Sample.FromInt(i);
                return true;
            // Strict: a dotted quad or an IPv6 address, not inet_aton's shorthands ("10" is not 0.0.0.10).
            case SampleType.Ip when (value.Contains(':', StringComparison.Ordinal) || value.AsSpan().Count('.') == 3) && IPAddress.TryParse(value, out var ip):
                sample = Sample.FromIp(ip);
                return true;
            case SampleType.Str:
                sample = Sample.FromString(value);
                return true;
            default:
                sample = default;
                return false;
        }
    }

    /// <summary>map_regm's lookup (under the read lock, as every lookup).</summary>
    internal string? FindAndSubstitute(RegIndex index, string text)
    {
        EnterRead();
        try
        {
            return index.FindAndSubstitute(text);
        }
        finally
        {
            ExitRead();
        }
    }

    internal PatternEntry? Find(PatternIndex index, in Sample sample, ref int work)
    {
        EnterRead();
        try
        {
            return index.Find(sample, ref work);
        }
        finally
        {
            ExitRead();
        }
    }

    /// <summary>Every entry in file order (a copy).</summary>
    public IReadOnlyList<PatternEntry> Entries()
    {
        EnterRead();
        try
        {
            return [.. _entries];
        }
        finally
        {
            ExitRead();
        }
    }

    /// <summary>Appends an entry (after the others). False, with the reason, if an index refuses its key or a converter its value.</summary>
    public bool Add(string key, string? value, out string? error) => Add(key, value, 0, out error);

    internal bool Add(string key, string? value, int line, out string? error)
    {
        EnterWrite();
        try
        {
            return AddLocked(key, value, line, out error);
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <summary>Sets the value of every entry with this key (exact, case-sensitive). Returns how many changed.</summary>
    public int Set(string key, string value, out string? error)
    {
        EnterWrite();
        try
        {
            return SetLocked(key, value, out error);
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <summary>Removes every entry with this key. Returns how many were removed.</summary>
    public int Delete(string key)
    {
        EnterWrite();
        try
        {
            if (!_byKey.Remove(key, out var nodes))
            {
                return 0;
            }

            foreach (var n in nodes)
            {
                foreach (var index in _indexes)
                {
                    index.Remove(n.Value);
                }

                _entries.Remove(n);
            }

            return nodes.Count;
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <summary>Whether an entry has this key (exact).</summary>
    public bool Contains(string key)
    {
        EnterRead();
        try
        {
            return _byKey.ContainsKey(key);
        }
        finally
        {
            ExitRead();
        }
    }

    public void Clear()
    {
        EnterWrite();
        try
        {
            ClearLocked();
        }
        finally
        {
            ExitWrite();
        }
    }

    private void ClearLocked()
    {
        _entries.Clear();
        _byKey.Clear();
        foreach (var index in _indexes)
        {
            index.Clear();
        }
    }

    /// <summary>
    /// Lua's core.set_map: sets the key's value, or adds the key when it is not there (one write
    /// lock, so two scripts setting the same new key add it once).
    /// </summary>
    public bool SetOrAdd(string key, string value, out string? error)
    {
        EnterWrite();
        try
        {
            return _byKey.ContainsKey(key) ? SetLocked(key, value, out error) > 0 : AddLocked(key, value, 0, out error);
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <summary>Lua's core.add_acl: adds the key unless it is there already.</summary>
    public bool AddIfMissing(string key, out string? error)
    {
        EnterWrite();
        try
        {
            error = null;
            return _byKey.ContainsKey(key) || AddLocked(key, IsMap ? "" : null, 0, out error);
        }
        finally
        {
            ExitWrite();
        }
    }

    private bool AddLocked(string key, string? value, int line, out string? error)
    {
        if (!CheckValue(value, out error))
        {
            return false;
        }

        var entry = new PatternEntry(++_nextSeq, key, value, line);
        int added = 0;
        try
        {
            for (; added < _indexes.Length; added++)
            {
                _indexes[added].Add(entry);
            }
        }
        catch (FormatException ex)
        {
            // All or nothing: an entry one index refuses is in none (HAProxy removes it likewise).
            for (int i = 0; i < added; i++)
            {
                _indexes[i].Remove(entry);
            }

            error = ex.Message;
            return false;
        }

        var node = _entries.AddLast(entry);
        if (!_byKey.TryGetValue(key, out var nodes))
        {
            _byKey[key] = nodes = new List<LinkedListNode<PatternEntry>>(1);
        }

        nodes.Add(node);
        return true;
    }

    private int SetLocked(string key, string value, out string? error)
    {
        if (!CheckValue(value, out error) || !_byKey.TryGetValue(key, out var nodes))
        {
            return 0;
        }

        foreach (var n in nodes)
        {
            n.Value.Value = value;
        }

        return nodes.Count;
    }

    private bool CheckValue(string? value, out string? error)
    {
        error = null;
        if (_intValues && !TryValue(value ?? "", SampleType.Int, out _))
        {
            error = $"'{value}' is not a valid integer (a converter of '{Name}' outputs integers)";
        }
        else if (_ipValues && !TryValue(value ?? "", SampleType.Ip, out _))
        {
            error = $"'{value}' is not a valid IPv4 or IPv6 address (a converter of '{Name}' outputs addresses)";
        }

        return error is null;
    }

    private void EnterRead() => _lock?.EnterReadLock();

    private void ExitRead() => _lock?.ExitReadLock();

    private void EnterWrite() => _lock?.EnterWriteLock();

    private void ExitWrite() => _lock?.ExitWriteLock();
}
