using System.Globalization;
using System.Text.RegularExpressions;
using HaLua.DataPlane.Config;

namespace HaLua.DataPlane.Samples;

/// <summary>A compiled ACL: a sample expression and the patterns it is matched against.</summary>
internal sealed class Acl
{
    private readonly Func<ISampleContext, bool> _eval;

    private Acl(Func<ISampleContext, bool> eval) => _eval = eval;

    /// <summary>True when it matches; a missing sample never matches.</summary>
    public bool Matches(ISampleContext ctx) => _eval(ctx);

    /// <summary>Several <c>acl</c> lines with one name: matches when any line does.</summary>
    public static Acl Any(IReadOnlyList<Acl> acls) => acls.Count == 1 ? acls[0] : new Acl(ctx => acls.Any(a => a.Matches(ctx)));

    public static Acl Predefined(string name, SampleRegistry registry) => name switch
    {
        "TRUE" => new Acl(_ => true),
        "FALSE" => new Acl(_ => false),
        "LOCALHOST" => Compile(new AclConfig(name, "src", [], ["127.0.0.1/8", "::1"], default), registry),
        "REQ_CONTENT" => Compile(new AclConfig(name, "req.len", [], ["gt", "0"], default), registry),
        "WAIT_END" => new Acl(_ => true),
        _ => throw new FormatException($"no such ACL : '{name}'"),
    };

    public static Acl Compile(AclConfig config, SampleRegistry registry)
    {
        var expr = SampleExpression.Parse(config.Fetch, registry);
        bool ignoreCase = false;
        string? method = null;
        var patterns = new List<string>(config.Patterns);
        for (int i = 0; i < config.Flags.Length; i++)
        {
            switch (config.Flags[i])
            {
                case "-i":
                    ignoreCase = true;
                    break;
                case "-m":
                    method = config.Flags[++i];
                    break;
                case "-f":
                    patterns.AddRange(ReadPatternFile(config.Flags[++i]));
                    break;
                case "-n":
                    break;
                default:
                    throw new FormatException($"unsupported ACL flag '{config.Flags[i]}'");
            }
        }

        method ??= expr.OutputType switch
        {
            SampleType.Int => "int",
            SampleType.Ip => "ip",
            SampleType.Bool => "bool",
            _ => "str",
        };

        var cmp = ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        Func<Sample, bool> match = method switch
        {
            "found" => _ => true,
            "bool" => v => v.AsBool,
            "str" => StrSet(patterns, ignoreCase),
            "beg" => v => patterns.Any(p => v.AsString.StartsWith(p, cmp)),
            "end" => v => patterns.Any(p => v.AsString.EndsWith(p, cmp)),
            "sub" => v => patterns.Any(p => v.AsString.Contains(p, cmp)),
            "reg" => Regexes(patterns, ignoreCase),
            "dir" => v => patterns.Any(p => v.AsString.Split('/').Contains(p, ignoreCase ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal)),
            "dom" => v => patterns.Any(p => v.AsString.Split('.', '/', '?').Contains(p, ignoreCase ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal)),
            "len" => IntMatcher(patterns, v => v.AsString.Length),
            "int" => IntMatcher(patterns, v => v.TryAsInt(out long x) ? x : null),
            "ip" => IpMatcher(patterns),
            _ => throw new FormatException($"unknown match method '{method}'"),
        };

        if (patterns.Count == 0 && method is not ("found" or "bool"))
        {
            // HAProxy: an ACL without pattern never matches (except found/bool).
            match = _ => false;
        }

        return new Acl(ctx => expr.TryEvaluate(ctx, out var v) && match(v));
    }

    private static IEnumerable<string> ReadPatternFile(string path)
    {
        try
        {
            return File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"failed to open pattern file '{path}': {ex.Message}");
        }
    }

    private static Func<Sample, bool> StrSet(List<string> patterns, bool ignoreCase)
    {
        var set = new HashSet<string>(patterns, ignoreCase ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);
        return v => set.Contains(v.AsString);
    }

    private static Func<Sample, bool> Regexes(List<string> patterns, bool ignoreCase)
    {
        var opts = RegexOptions.CultureInvariant | (ignoreCase ? RegexOptions.IgnoreCase : 0);
        var rx = patterns.Select(p =>
        {
            try
            {
                return new Regex(p, opts, TimeSpan.FromMilliseconds(100));
            }
            catch (ArgumentException ex)
            {
                throw new FormatException($"invalid regex '{p}': {ex.Message}");
            }
        }).ToArray();
        return v => rx.Any(r => r.IsMatch(v.AsString));
    }

    private static Func<Sample, bool> IntMatcher(List<string> patterns, Func<Sample, long?> value)
    {
        var preds = new List<Func<long, bool>>();
        for (int i = 0; i < patterns.Count; i++)
        {
            string p = patterns[i];
            if (p is "eq" or "ge" or "gt" or "le" or "lt")
            {
                if (++i >= patterns.Count)
                {
                    throw new FormatException($"operator '{p}' expects a number");
                }

                long n = ParseLong(patterns[i]);
                preds.Add(p switch
                {
                    "eq" => x => x == n,
                    "ge" => x => x >= n,
                    "gt" => x => x > n,
                    "le" => x => x <= n,
                    _ => x => x < n,
                });
                continue;
            }

            int colon = p.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0)
            {
                long lo = colon == 0 ? long.MinValue : ParseLong(p[..colon]);
                long hi = colon == p.Length - 1 ? long.MaxValue : ParseLong(p[(colon + 1)..]);
                preds.Add(x => x >= lo && x <= hi);
            }
            else
            {
                long n = ParseLong(p);
                preds.Add(x => x == n);
            }
        }

        return v => value(v) is { } x && preds.Any(pr => pr(x));
    }

    private static long ParseLong(string s) => long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v)
        ? v
        : throw new FormatException($"'{s}' is not a valid integer");

    private static Func<Sample, bool> IpMatcher(List<string> patterns)
    {
        var nets = patterns.Select(p => Network.Parse(p) ?? throw new FormatException($"'{p}' is not a valid IPv4 or IPv6 address")).ToArray();
        return v => v.TryAsIp(out var ip) && ip is not null && nets.Any(n => n.Contains(ip));
    }
}

/// <summary>A compiled condition: OR of AND groups of (possibly negated) ACLs, with if/unless.</summary>
internal sealed class Condition
{
    private readonly bool _unless;
    private readonly (bool Negate, Acl Acl)[][] _anyOf;

    private Condition(bool unless, (bool, Acl)[][] anyOf)
    {
        _unless = unless;
        _anyOf = anyOf;
    }

    public bool Evaluate(ISampleContext ctx)
    {
        bool result = false;
        foreach (var group in _anyOf)
        {
            bool all = true;
            foreach (var (negate, acl) in group)
            {
                if (acl.Matches(ctx) == negate)
                {
                    all = false;
                    break;
                }
            }

            if (all)
            {
                result = true;
                break;
            }
        }

        return result != _unless;
    }

    /// <summary>Compiles a condition against the proxy's named ACLs (same name = OR of their lines, as HAProxy).</summary>
    public static Condition Compile(ConditionConfig config, IReadOnlyList<AclConfig> named, SampleRegistry registry)
    {
        var groups = config.AnyOf.Select(g => g.Select(t =>
        {
            Acl acl;
            if (t.Anonymous is { } anon)
            {
                acl = Acl.Compile(anon, registry);
            }
            else
            {
                var lines = named.Where(a => a.Name == t.Name).ToList();
                acl = lines.Count == 0 ? Acl.Predefined(t.Name!, registry) : Acl.Any([.. lines.Select(l => Acl.Compile(l, registry))]);
            }

            return (t.Negate, acl);
        }).ToArray()).ToArray();
        return new Condition(config.Unless, groups);
    }

}
