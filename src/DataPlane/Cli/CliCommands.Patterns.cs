using System.Globalization;
using System.Text;
using HaLua.DataPlane.Maps;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Cli;

/// <summary>
/// <c>show|get|add|set|del|clear|prepare|commit map|acl</c> over the shared pattern store (the
/// structures the converters, ACLs, Lua's Map class and the admin API use). A map or ACL file is
/// named by its file name or by <c>#ID</c>, its position in <c>show map</c>/<c>show acl</c>; an
/// entry by its key or by <c>#REF</c>, the <c>0x...</c> reference that <c>show map</c> prints.
/// </summary>
internal static partial class CliCommands
{
    private static bool IsMap(string[] args) => args[1] == "map";

    private static string Unknown(bool map) => map ? "Unknown map identifier. Please use #<id> or <file>.\n" : "Unknown ACL identifier. Please use #<id> or <file>.\n";

    private static List<PatternReference> References(CliSession s, bool map)
    {
        var store = s.Host.Generation.Samples.Patterns;
        return [.. store.List().Where(r => r.IsMap == map).Select(r => store.Find(r.Name)!)];
    }

    private static PatternReference? FindReference(CliSession s, bool map, string name)
    {
        var all = References(s, map);
        if (name.StartsWith('#'))
        {
            return int.TryParse(name.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out int id) && id < all.Count ? all[id] : null;
        }

        return all.FirstOrDefault(r => r.Name == name);
    }

    /// <summary>Takes an <c>@VER</c> word at <paramref name="index"/>: its version, or null when the word is not one.</summary>
    private static long? Version(string[] args, ref int index)
    {
        if (index < args.Length && args[index].StartsWith('@'))
        {
            long v = long.TryParse(args[index].AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out long n) ? n : -1;
            index++;
            return v;
        }

        return null;
    }

    private static string Ref(long seq) => "0x" + seq.ToString("x", CultureInfo.InvariantCulture);

    private static bool TryRef(string word, out long seq)
    {
        seq = 0;
        return word.StartsWith('#') && (word.StartsWith("#0x", StringComparison.OrdinalIgnoreCase)
            ? long.TryParse(word.AsSpan(3), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out seq)
            : long.TryParse(word.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out seq));
    }

    public static async ValueTask ShowPattern(CliSession s, string[] args, string? payload)
    {
        bool map = IsMap(args);
        int i = 2;
        long? version = Version(args, ref i);
        if (i >= args.Length)
        {
            var sb = new StringBuilder("# id (file) description\n");
            var all = References(s, map);
            for (int id = 0; id < all.Count; id++)
            {
                var r = all[id];
                sb.Append(CultureInfo.InvariantCulture, $"{id} ({r.Name}) pattern loaded from file '{r.Name}' used by {(map ? "map" : "acl")}. curr_ver={r.Version} next_ver={r.NextVersion} entry_cnt={r.Count}\n");
            }

            s.Write(sb.ToString());
            return;
        }

        if (FindReference(s, map, args[i]) is not { } reference)
        {
            s.Write(Unknown(map));
            return;
        }

        IEnumerable<(long Seq, string Key, string? Value)> entries = version is { } v && v != reference.Version
            ? (reference.PreparedEntries(v) ?? []).Select((e, n) => ((long)n + 1, e.Key, e.Value))
            : reference.Entries().Select(e => (e.Seq, e.Key, e.Value));
        foreach (var (seq, key, value) in entries)
        {
            s.Write(map ? $"{Ref(seq)} {key} {value}\n" : $"{Ref(seq)} {key}\n");
            await s.FlushIfFullAsync().ConfigureAwait(false);
        }
    }

    /// <summary><c>get map|acl NAME VALUE</c>: what an exact string lookup finds (HaLua's <c>str</c> index).</summary>
    public static ValueTask GetPattern(CliSession s, string[] args, string? payload)
    {
        bool map = IsMap(args);
        if (args.Length < 4)
        {
            s.Write(map ? "Missing map identifier and/or key.\n" : "Missing ACL identifier and/or key.\n");
            return Done;
        }

        if (FindReference(s, map, args[2]) is not { } reference)
        {
            s.Write(Unknown(map));
            return Done;
        }

        // One line per match method the reference is used with, as HAProxy prints one per expression.
        var indexes = reference.IndexesInUse;
        if (indexes.Count == 0)
        {
            indexes = [reference.GetIndex(MatchMethod.Str, false)];
        }

        var sb = new StringBuilder();
        foreach (var index in indexes)
        {
            string type = index.Method.Name();
            string head = $"type={type}, case={(index.IgnoreCase ? "insensitive" : "sensitive")}, ";
            var found = ToSample(index.Method, args[3]) is { } sample ? index.Match(sample) : null;
            string idx = index.Method is MatchMethod.Str or MatchMethod.Beg or MatchMethod.Ip ? "tree" : "list";
            sb.Append(head).Append(found is null
                ? (map ? "found=no\n" : "match=no\n")
                : map ? $"found=yes, idx={idx}, key=\"{found.Key}\", value=\"{found.Value}\", type=\"str\"\n" : $"match=yes, idx={idx}, pattern=\"{found.Key}\"\n");
        }

        s.Write(sb.ToString());
        return Done;
    }

    private static Sample? ToSample(MatchMethod method, string text) => method switch
    {
        MatchMethod.Int or MatchMethod.Len => long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long n) ? Sample.FromInt(n) : null,
        MatchMethod.Ip => System.Net.IPAddress.TryParse(text, out var ip) ? Sample.FromIp(ip) : null,
        _ => Sample.FromString(text),
    };

    /// <summary><c>add map [@VER] NAME KEY VALUE</c>, <c>add acl [@VER] NAME PATTERN</c>, or the entries as a payload (one per line).</summary>
    public static ValueTask AddPattern(CliSession s, string[] args, string? payload)
    {
        bool map = IsMap(args);
        int i = 2;
        long? version = Version(args, ref i);
        int needed = map ? 3 : 2;
        bool withPayload = payload is not null && args.Length - i == 1;
        if (args.Length - i < needed && !withPayload)
        {
            s.Write(map
                ? "'add map' expects three parameters (map identifier, key and value) or one parameter (map identifier) and a payload\n"
                : "'add acl' expects two parameters: ACL identifier and pattern.\n");
            return Done;
        }

        if (FindReference(s, map, args[i]) is not { } reference)
        {
            s.Write(Unknown(map));
            return Done;
        }

        var entries = new List<(string Key, string? Value)>();
        if (withPayload)
        {
            foreach (var line in payload!.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var words = CliParser.Words(line);
                if (words.Length == 0)
                {
                    continue;
                }

                if (map && words.Length < 2)
                {
                    s.Write("'add map': invalid payload line (a key and a value expected).\n");
                    return Done;
                }

                entries.Add((words[0], map ? string.Join(' ', words.Skip(1)) : null));
            }
        }
        else
        {
            entries.Add((args[i + 1], map ? args[i + 2] : null));
        }

        foreach (var (key, value) in entries)
        {
            string? error;
            if (version is { } v && v != reference.Version)
            {
                if (!reference.AddToVersion(v, key, value, out _, out error))
                {
                    s.Write(error!.StartsWith("unknown version", StringComparison.Ordinal) ? $"Version number in the future, please use 'prepare {args[1]}' before.\n" : error + "\n");
                    return Done;
                }
            }
            else if (!reference.Add(key, value, out error))
            {
                s.Write(error!.TrimEnd('.') + ".\n");
                return Done;
            }
        }

        return Done;
    }

    /// <summary><c>set map NAME KEY|#REF VALUE</c>.</summary>
    public static ValueTask SetPattern(CliSession s, string[] args, string? payload)
    {
        if (args.Length < 5)
        {
            s.Write("'set map' expects three parameters: map identifier, key and value.\n");
            return Done;
        }

        if (FindReference(s, true, args[2]) is not { } reference)
        {
            s.Write(Unknown(true));
            return Done;
        }

        string? error;
        if (TryRef(args[3], out long seq))
        {
            if (!reference.SetByRef(seq, args[4], out error))
            {
                s.Write(error is null ? "key or pattern not found.\n" : error + "\n");
            }
        }
        else if (reference.Set(args[3], args[4], out error) == 0)
        {
            s.Write(error is null ? "entry not found.\n" : error + "\n");
        }

        return Done;
    }

    /// <summary><c>del map|acl NAME KEY|#REF</c>.</summary>
    public static ValueTask DeletePattern(CliSession s, string[] args, string? payload)
    {
        bool map = IsMap(args);
        if (args.Length < 4)
        {
            s.Write(map ? "This command expects two parameters: map identifier and key.\n" : "This command expects two parameters: ACL identifier and key.\n");
            return Done;
        }

        if (FindReference(s, map, args[2]) is not { } reference)
        {
            s.Write(Unknown(map));
            return Done;
        }

        bool deleted = TryRef(args[3], out long seq) ? reference.DeleteByRef(seq) : reference.Delete(args[3]) > 0;
        if (!deleted)
        {
            s.Write("Key not found.\n");
        }

        return Done;
    }

    /// <summary><c>clear map|acl [@VER] NAME</c>.</summary>
    public static ValueTask ClearPattern(CliSession s, string[] args, string? payload)
    {
        bool map = IsMap(args);
        int i = 2;
        long? version = Version(args, ref i);
        if (i >= args.Length)
        {
            s.Write(map ? "Missing map identifier.\n" : "Missing ACL identifier.\n");
            return Done;
        }

        if (FindReference(s, map, args[i]) is not { } reference)
        {
            s.Write(Unknown(map));
            return Done;
        }

        if (version is { } v && v != reference.Version)
        {
            if (!reference.ClearVersion(v))
            {
                s.Write("Version number out of range.\n");
            }
        }
        else
        {
            reference.Clear();
        }

        return Done;
    }

    public static ValueTask PreparePattern(CliSession s, string[] args, string? payload)
    {
        bool map = IsMap(args);
        if (args.Length < 3 || FindReference(s, map, args[2]) is not { } reference)
        {
            s.Write(Unknown(map));
            return Done;
        }

        s.Write(string.Create(CultureInfo.InvariantCulture, $"New version created: {reference.Prepare()}\n"));
        return Done;
    }

    /// <summary><c>commit map|acl @VER NAME</c>.</summary>
    public static ValueTask CommitPattern(CliSession s, string[] args, string? payload)
    {
        bool map = IsMap(args);
        int i = 2;
        long? version = Version(args, ref i);
        if (version is null)
        {
            s.Write("Missing version number.\n");
            return Done;
        }

        if (i >= args.Length || FindReference(s, map, args[i]) is not { } reference)
        {
            s.Write(Unknown(map));
            return Done;
        }

        if (!reference.Commit(version.Value, out _, out string? error))
        {
            s.Write(error!.StartsWith("unknown version", StringComparison.Ordinal) ? "Version number out of range.\n" : error + "\n");
        }

        return Done;
    }
}
