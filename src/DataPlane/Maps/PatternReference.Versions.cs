using System.Text;

namespace HaLua.DataPlane.Maps;

/// <summary>
/// HAProxy's atomic update of a map or ACL file (<c>prepare map</c>, <c>add map @VER</c>,
/// <c>commit map @VER</c>): a prepared version collects entries no lookup sees, and its commit
/// replaces every entry at once under the write lock. Committing a version drops it and every
/// older prepared one, as HAProxy purges older generations.
/// </summary>
internal sealed partial class PatternReference
{
    private readonly Dictionary<long, List<(string Key, string? Value)>> _prepared = [];
    private long _version;
    private long _nextVersion;

    /// <summary>The version of the entries lookups see (0 until the first commit).</summary>
    public long Version => Volatile.Read(ref _version);

    /// <summary>A new, empty version.</summary>
    public long Prepare()
    {
        EnterWrite();
        try
        {
            long v = Math.Max(_nextVersion, _version) + 1;
            _nextVersion = v;
            _prepared[v] = [];
            return v;
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <summary>The entries of a prepared version, or null if there is none with that number.</summary>
    public IReadOnlyList<(string Key, string? Value)>? PreparedEntries(long version)
    {
        EnterRead();
        try
        {
            return _prepared.TryGetValue(version, out var list) ? [.. list] : null;
        }
        finally
        {
            ExitRead();
        }
    }

    /// <summary>Adds an entry to a prepared version. False, with the reason, if there is no such version or the value is refused.</summary>
    public bool AddToVersion(long version, string key, string? value, out int count, out string? error)
    {
        EnterWrite();
        try
        {
            count = 0;
            if (!_prepared.TryGetValue(version, out var list))
            {
                error = $"unknown version {version} of '{Name}' (prepare one first)";
                return false;
            }

            if (!CheckValue(value, out error))
            {
                return false;
            }

            list.Add((key, IsMap ? value ?? "" : null));
            count = list.Count;
            return true;
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <summary>
    /// Makes a prepared version the current entries, all at once: a lookup sees the old entries or
    /// the new ones, never a mix. If an index refuses an entry, nothing changes.
    /// </summary>
    public bool Commit(long version, out int count, out string? error)
    {
        EnterWrite();
        try
        {
            count = 0;
            if (!_prepared.TryGetValue(version, out var next))
            {
                error = $"unknown version {version} of '{Name}' (prepare one first)";
                return false;
            }

            var old = _entries.Select(e => (e.Key, e.Value)).ToList();
            ClearLocked();
            foreach (var (key, value) in next)
            {
                if (!AddLocked(key, value, 0, out error))
                {
                    ClearLocked();
                    foreach (var (k, v) in old)
                    {
                        AddLocked(k, v, 0, out _);
                    }

                    error = $"entry '{key}' refused: {error}";
                    return false;
                }
            }

            foreach (var stale in _prepared.Keys.Where(k => k <= version).ToList())
            {
                _prepared.Remove(stale);
            }

            Volatile.Write(ref _version, version);
            count = _entries.Count;
            error = null;
            return true;
        }
        finally
        {
            ExitWrite();
        }
    }

    /// <summary>Writes the current entries back to the file (temporary file then rename), in HAProxy's file syntax.</summary>
    public void Persist()
    {
        var text = new StringBuilder();
        foreach (var e in Entries())
        {
            text.Append(e.Key);
            if (IsMap)
            {
                text.Append(' ').Append(e.Value);
            }

            text.Append('\n');
        }

        string temp = Name + ".halua-tmp";
        File.WriteAllText(temp, text.ToString());
        File.Move(temp, Name, overwrite: true);
    }
}
