using System.Globalization;
using System.Text.RegularExpressions;
using HaLua.DataPlane.Config;

namespace HaLua.DataPlane.Samples;

/// <summary>A compiled ACL: a sample expression and the patterns it is matched against.</summary>
internal sealed class Acl
{
    private static readonly char[] DirDelimiters = ['/', '?'];
    private static readonly char[] DomDelimiters = ['/', '?', '.', ':'];

    private readonly Func<ISampleContext, AclResult> _eval;

    private Acl(Func<ISampleContext, AclResult> eval) => _eval = eval;

    private Acl(Func<ISampleContext, bool> eval) => _eval = ctx => eval(ctx) ? AclResult.Pass : AclResult.Fail;

    /// <summary>True when it matches; a missing sample never matches.</summary>
    public bool Matches(ISampleContext ctx) => _eval(ctx) == AclResult.Pass;

    /// <summary>Pass, Fail, or Miss when the answer may still change (request contents under inspection).</summary>
    public AclResult Evaluate(ISampleContext ctx) => _eval(ctx);

    /// <summary>Several <c>acl</c> lines with one name: matches when any line does.</summary>
    public static Acl Any(IReadOnlyList<Acl> acls) => acls.Count == 1 ? acls[0] : new Acl(ctx =>
    {
        var r = AclResult.Fail;
        foreach (var a in acls)
        {
            r = AclLogic.Or(r, a.Evaluate(ctx));
        }

        return r;
    });

    public static Acl Predefined(string name, SampleRegistry registry) => name switch
    {
        "TRUE" => new Acl(_ => true),
        "FALSE" => new Acl(_ => false),
        "LOCALHOST" => Compile(new AclConfig(name, "src", [], ["127.0.0.1/8", "::1"], default), registry),
        "REQ_CONTENT" => Compile(new AclConfig(name, "req.len", [], ["gt", "0"], default), registry),
        "WAIT_END" => new Acl(ctx => ctx.ContentFinal ? AclResult.Pass : AclResult.Miss),
        _ => throw new FormatException($"no such ACL : '{name}'"),
    };

    /// <summary>HAProxy's derived ACL keywords: path_beg is "path -m beg", hdr_val(x) is "hdr(x) -m int"...</summary>
    private static readonly (string Suffix, string Method)[] Derived =
    [
        ("_beg", "beg"), ("_end", "end"), ("_sub", "sub"), ("_reg", "reg"), ("_dir", "dir"), ("_dom", "dom"),
        ("_len", "len"), ("_val", "int"), ("_ip", "ip"), ("_found", "found"),
    ];

    public static Acl Compile(AclConfig config, SampleRegistry registry)
    {
        string fetch = config.Fetch;
        string? method = null;
        int paren = fetch.IndexOf('(', StringComparison.Ordinal);
        string fetchName = paren < 0 ? fetch : fetch[..paren];
        if (registry.FindFetch(fetchName) is null)
        {
            foreach (var (suffix, m) in Derived)
            {
                if (fetchName.EndsWith(suffix, StringComparison.Ordinal) && registry.FindFetch(fetchName[..^suffix.Length]) is not null)
                {
                    fetch = fetchName[..^suffix.Length] + (paren < 0 ? "" : fetch[paren..]);
                    method = m;
                    break;
                }
            }
        }

        var expr = SampleExpression.Parse(fetch, registry);
        bool ignoreCase = false;
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
            "dir" => v => patterns.Any(p => MatchWord(v.AsString, p, DirDelimiters, cmp)),
            "dom" => v => patterns.Any(p => MatchWord(v.AsString, p, DomDelimiters, cmp)),
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

        if (expr.DependsOnContent)
        {
            return new Acl(ctx => expr.TryEvaluate(ctx, out var v) && match(v) ? AclResult.Pass : ctx.ContentFinal ? AclResult.Fail : AclResult.Miss);
        }

        return new Acl(ctx => expr.TryEvaluate(ctx, out var v) && match(v));
    }

    /// <summary>
    /// HAProxy's match_word (-m dir, -m dom): the pattern, without its leading and trailing
    /// delimiters, appears in the sample between delimiters or the ends of the sample; it may
    /// itself contain delimiters ("example.com" matches "www.example.com").
    /// </summary>
    private static bool MatchWord(string sample, string pattern, char[] delimiters, StringComparison cmp)
    {
        var p = pattern.AsSpan().Trim(delimiters);
        for (int at = 0; at + p.Length <= sample.Length; at++)
        {
            bool startsWord = at == 0 || Array.IndexOf(delimiters, sample[at - 1]) >= 0;
            bool endsWord = at + p.Length == sample.Length || Array.IndexOf(delimiters, sample[at + p.Length]) >= 0;
            if (startsWord && endsWord && sample.AsSpan(at, p.Length).Equals(p, cmp))
            {
                return true;
            }
        }

        return false;
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

    public bool Evaluate(ISampleContext ctx) => EvaluateTri(ctx) == AclResult.Pass;

    /// <summary>HAProxy's three-valued evaluation: Miss when the answer needs more request data.</summary>
    public AclResult EvaluateTri(ISampleContext ctx)
    {
        var result = AclResult.Fail;
        foreach (var group in _anyOf)
        {
            var all = AclResult.Pass;
            foreach (var (negate, acl) in group)
            {
                var r = acl.Evaluate(ctx);
                all = AclLogic.And(all, negate ? AclLogic.Not(r) : r);
                if (all == AclResult.Fail)
                {
                    break;
                }
            }

            result = AclLogic.Or(result, all);
            if (result == AclResult.Pass)
            {
                break;
            }
        }

        return _unless ? AclLogic.Not(result) : result;
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

/// <summary>An ACL's answer: HAProxy's ACL_TEST_PASS / FAIL / MISS.</summary>
internal enum AclResult { Fail, Miss, Pass }

/// <summary>Three-valued logic: Miss (unknown yet) stays Miss unless the other side decides.</summary>
internal static class AclLogic
{
    public static AclResult Not(AclResult r) => r switch
    {
        AclResult.Pass => AclResult.Fail,
        AclResult.Fail => AclResult.Pass,
        _ => AclResult.Miss,
    };

    public static AclResult And(AclResult a, AclResult b)
        => a == AclResult.Fail || b == AclResult.Fail ? AclResult.Fail : a == AclResult.Miss || b == AclResult.Miss ? AclResult.Miss : AclResult.Pass;

    public static AclResult Or(AclResult a, AclResult b)
        => a == AclResult.Pass || b == AclResult.Pass ? AclResult.Pass : a == AclResult.Miss || b == AclResult.Miss ? AclResult.Miss : AclResult.Fail;
}
