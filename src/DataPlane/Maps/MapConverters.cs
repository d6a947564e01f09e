using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Maps;

/// <summary>
/// HAProxy's map converters: <c>map_METHOD[_OUT](FILE[,DEFAULT])</c> looks the sample up in the
/// map FILE with a match method (str, beg, sub, dir, dom, end, reg, int, ip) and gives the value
/// as a string, or with <c>_int</c> / <c>_ip</c> as an integer or an address. <c>map</c> is
/// <c>map_str</c>. Without a match: DEFAULT, or no sample. In the configuration the file is read
/// (or found, when already loaded) and every value and the default checked once, at load; from
/// Lua (<c>txn.c:map_str(v, FILE)</c>) the file must already be loaded.
/// </summary>
internal static class MapConverters
{
    private static readonly (string Name, MatchMethod Method)[] Methods =
    [
        ("str", MatchMethod.Str), ("beg", MatchMethod.Beg), ("sub", MatchMethod.Sub), ("dir", MatchMethod.Dir),
        ("dom", MatchMethod.Dom), ("end", MatchMethod.End), ("reg", MatchMethod.Reg), ("int", MatchMethod.Int),
        ("ip", MatchMethod.Ip),
    ];

    private static readonly (string Suffix, SampleType Type)[] Outputs = [("", SampleType.Str), ("_int", SampleType.Int), ("_ip", SampleType.Ip)];

    public static void Register(SampleRegistry r)
    {
        var store = r.Patterns;
        Add(r, store, "map", MatchMethod.Str, SampleType.Str);
        AddRegm(r, store);
        foreach (var (name, method) in Methods)
        {
            foreach (var (suffix, type) in Outputs)
            {
                Add(r, store, "map_" + name + suffix, method, type);
            }
        }
    }

    private static void Add(SampleRegistry r, PatternStore store, string name, MatchMethod method, SampleType output)
    {
        r.Add(new ConverterDescriptor(name, 1, 2, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) =>
        {
            // Unbound (Lua's Converters class): only a map already loaded, nothing read from disk.
            if (store.Find(a[0]) is not { IsMap: true } reference)
            {
                return false;
            }

            try
            {
                return Lookup(reference.GetIndex(method, ignoreCase: false), output, Default(name, output, a), ref v);
            }
            catch (FormatException)
            {
                return false;
            }
        }, output)
        {
            Compile = args =>
            {
                PatternIndex index;
                Sample? fallback;
                try
                {
                    var reference = store.Load(args[0], isMap: true);
                    index = reference.GetIndex(method, ignoreCase: false);
                    if (output != SampleType.Str)
                    {
                        reference.RequireValues(output);
                    }

                    fallback = Default(name, output, args);
                }
                catch (FormatException ex)
                {
                    throw new FormatException($"converter '{name}': {ex.Message}");
                }

                return (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Lookup(index, output, fallback, ref v);
            },
        });
    }

    /// <summary>
    /// <c>map_regm(FILE[,DEFAULT])</c>: as map_reg, and the value's <c>\1</c>..<c>\9</c> are replaced by
    /// the groups the key's regex captured (HAProxy's backreferences).
    /// </summary>
    private static void AddRegm(SampleRegistry r, PatternStore store)
    {
        const string name = "map_regm";
        r.Add(new ConverterDescriptor(name, 1, 2, (ISampleContext c, ref Sample v, IReadOnlyList<string> a) =>
        {
            if (store.Find(a[0]) is not { IsMap: true } reference)
            {
                return false;
            }

            try
            {
                return Regm(reference, (RegIndex)reference.GetIndex(MatchMethod.Reg, ignoreCase: false), a.Count > 1 ? a[1] : null, ref v);
            }
            catch (FormatException)
            {
                return false;
            }
        }, SampleType.Str)
        {
            Compile = args =>
            {
                PatternReference reference;
                RegIndex index;
                try
                {
                    reference = store.Load(args[0], isMap: true);
                    index = (RegIndex)reference.GetIndex(MatchMethod.Reg, ignoreCase: false);
                }
                catch (FormatException ex)
                {
                    throw new FormatException($"converter '{name}': {ex.Message}");
                }

                string? fallback = args.Length > 1 ? args[1] : null;
                return (ISampleContext c, ref Sample v, IReadOnlyList<string> a) => Regm(reference, index, fallback, ref v);
            },
        });
    }

    private static bool Regm(PatternReference reference, RegIndex index, string? fallback, ref Sample v)
    {
        if (reference.FindAndSubstitute(index, v.AsString) is { } value)
        {
            v = Sample.FromString(value);
            return true;
        }

        if (fallback is not null)
        {
            v = Sample.FromString(fallback);
            return true;
        }

        return false;
    }

    private static Sample? Default(string name, SampleType output, IReadOnlyList<string> args)
    {
        if (args.Count < 2)
        {
            return null;
        }

        return PatternReference.TryValue(args[1], output, out var d)
            ? d
            : throw new FormatException($"default value '{args[1]}' of '{name}' is not a valid {(output == SampleType.Int ? "integer" : "IPv4 or IPv6 address")}");
    }

    private static bool Lookup(PatternIndex index, SampleType output, Sample? fallback, ref Sample v)
    {
        // The input is cast to what the method compares; a sample that does not cast gives no sample.
        if ((index.Method == MatchMethod.Int && !v.TryAsInt(out _)) || (index.Method == MatchMethod.Ip && !(v.TryAsIp(out var ip) && ip is not null)))
        {
            return false;
        }

        if (index.Match(v) is { } entry && PatternReference.TryValue(entry.Value ?? "", output, out var found))
        {
            v = found;
            return true;
        }

        if (fallback is { } d)
        {
            v = d;
            return true;
        }

        return false;
    }
}
