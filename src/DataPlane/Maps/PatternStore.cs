using System.Collections.Concurrent;
using System.Text;

namespace HaLua.DataPlane.Maps;

/// <summary>
/// Every pattern reference of a generation by file name: the ACL files (<c>acl ... -f</c>) and maps
/// (<c>map_*</c> converters, Lua's <c>Map.new</c>) read at configuration load, which Lua and the
/// control plane change at runtime. A name is the file name as written, as in HAProxy; a relative
/// one is read from the current directory.
/// </summary>
internal sealed class PatternStore
{
    private readonly ConcurrentDictionary<string, PatternReference> _byName = new(StringComparer.Ordinal);
    private readonly List<PatternReference> _inOrder = [];

    /// <summary>The reference of a file already loaded, or null.</summary>
    public PatternReference? Find(string name) => _byName.GetValueOrDefault(name);

    /// <summary>
    /// The reference of a file, read now if no one loaded it yet. A file is either an ACL file
    /// (one pattern per line) or a map (key and value), never both, as in HAProxy.
    /// </summary>
    /// <exception cref="FormatException">The file cannot be read, or is already used the other way.</exception>
    public PatternReference Load(string file, bool isMap)
    {
        lock (_inOrder)
        {
            if (_byName.TryGetValue(file, out var existing))
            {
                return existing.IsMap == isMap
                    ? existing
                    : throw new FormatException(existing.IsMap
                        ? $"the file '{file}' is already used as a map (two columns) and cannot be used as a pattern file (one column)"
                        : $"the file '{file}' is already used as a pattern file (one column) and cannot be used as a map (two columns)");
            }

            var reference = Read(file, isMap);
            _byName[file] = reference;
            _inOrder.Add(reference);
            return reference;
        }
    }

    /// <summary>The inline patterns of one ACL: a reference of their own, which nothing else sees or changes.</summary>
    public static PatternReference Inline(IEnumerable<string> patterns)
    {
        var reference = new PatternReference("", isMap: false, shared: false);
        foreach (var p in patterns)
        {
            reference.Add(p, null, out _);
        }

        return reference;
    }

    /// <summary>
    /// Reads a file as HAProxy does. Lines end at CR or LF; leading blanks are skipped; lines then
    /// empty or starting with <c>#</c> are skipped. An ACL line is the pattern as it stands
    /// (trailing blanks included). A map line is a key up to the first blank, then after the
    /// blanks a value running to the end of the line, trailing blanks removed. Bytes are kept as
    /// they are (Latin-1 strings, like the HTTP samples they are matched with).
    /// </summary>
    private static PatternReference Read(string file, bool isMap)
    {
        string text;
        try
        {
            text = Encoding.Latin1.GetString(File.ReadAllBytes(file));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new FormatException($"failed to open pattern file '{file}': {ex.Message}");
        }

        var reference = new PatternReference(file, isMap, shared: true);
        int lineNo = 0;
        foreach (var rawLine in text.Split('\n'))
        {
            lineNo++;
            var line = rawLine.AsSpan();
            int cr = line.IndexOf('\r');
            if (cr >= 0)
            {
                line = line[..cr];
            }

            line = line.TrimStart(" \t");
            if (line.IsEmpty || line[0] == '#')
            {
                continue;
            }

            string? value = null;
            if (isMap)
            {
                int blank = line.IndexOfAny(" \t");
                value = blank < 0 ? "" : line[blank..].Trim(" \t").ToString();
                line = blank < 0 ? line : line[..blank];
            }

            // Keys are checked when an index is made (the file's first use names the method).
            reference.Add(line.ToString(), value, lineNo, out _);
        }

        return reference;
    }

    /// <summary>Every shared reference, in the order they were loaded (for the control plane's "show map"/"show acl").</summary>
    public IReadOnlyList<PatternReferenceInfo> List()
    {
        lock (_inOrder)
        {
            return [.. _inOrder.Select(r => new PatternReferenceInfo(r.Name, r.IsMap, r.Count))];
        }
    }

    /// <summary>The entries of a reference in file order, or null if there is no such reference.</summary>
    public IReadOnlyList<PatternEntryInfo>? Show(string name)
        => Find(name)?.Entries().Select(e => new PatternEntryInfo(e.Seq, e.Key, e.Value)).ToList();

    /// <summary>Adds an entry at the end (control plane "add map"/"add acl").</summary>
    public PatternEditResult Add(string name, string key, string? value)
    {
        if (Find(name) is not { } r)
        {
            return PatternEditResult.UnknownReference(name);
        }

        return r.Add(key, r.IsMap ? value ?? "" : value, out var error) ? PatternEditResult.Done(1) : PatternEditResult.Invalid(error!);
    }

    /// <summary>Sets the value of every entry with the key ("set map").</summary>
    public PatternEditResult Set(string name, string key, string value)
    {
        if (Find(name) is not { } r)
        {
            return PatternEditResult.UnknownReference(name);
        }

        int n = r.Set(key, value, out var error);
        return error is not null ? PatternEditResult.Invalid(error) : n == 0 ? PatternEditResult.UnknownKey(key) : PatternEditResult.Done(n);
    }

    /// <summary>Removes every entry with the key ("del map"/"del acl").</summary>
    public PatternEditResult Delete(string name, string key)
    {
        if (Find(name) is not { } r)
        {
            return PatternEditResult.UnknownReference(name);
        }

        int n = r.Delete(key);
        return n == 0 ? PatternEditResult.UnknownKey(key) : PatternEditResult.Done(n);
    }

    /// <summary>Removes every entry ("clear map"/"clear acl").</summary>
    public PatternEditResult Clear(string name)
    {
        if (Find(name) is not { } r)
        {
            return PatternEditResult.UnknownReference(name);
        }

        int n = r.Count;
        r.Clear();
        return PatternEditResult.Done(n);
    }
}

/// <summary>A reference as the control plane lists it.</summary>
internal sealed record PatternReferenceInfo(string Name, bool IsMap, int Entries);

/// <summary>An entry as the control plane shows it: its id (file order), key and value (null in an ACL file).</summary>
internal sealed record PatternEntryInfo(long Id, string Key, string? Value);

internal enum PatternEditStatus { Done, UnknownReference, UnknownKey, Invalid }

/// <summary>What a control-plane edit did: how many entries it touched, or why it did nothing.</summary>
internal readonly record struct PatternEditResult(PatternEditStatus Status, int Entries, string? Message)
{
    public static PatternEditResult Done(int entries) => new(PatternEditStatus.Done, entries, null);

    public static PatternEditResult UnknownReference(string name) => new(PatternEditStatus.UnknownReference, 0, $"unknown map or ACL file '{name}'");

    public static PatternEditResult UnknownKey(string key) => new(PatternEditStatus.UnknownKey, 0, $"key '{key}' not found");

    public static PatternEditResult Invalid(string message) => new(PatternEditStatus.Invalid, 0, message);
}
