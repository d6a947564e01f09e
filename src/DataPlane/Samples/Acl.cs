using System.Collections.Immutable;
using System.Globalization;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Maps;

namespace HaLua.DataPlane.Samples;

/// <summary>A compiled ACL: a sample expression and the patterns it is matched against.</summary>
internal sealed class Acl
{
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
        bool ignoreCase = false, filesAreMaps = false;
        var files = new List<string>();
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
                    files.Add(config.Flags[++i]);
                    break;
                case "-M":
                    filesAreMaps = true;
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
        if (!MatchMethods.TryParse(method, out var matchMethod))
        {
            throw new FormatException($"unknown match method '{method}'");
        }

        Func<Sample, bool> match = matchMethod switch
        {
            MatchMethod.Found => _ => true,
            MatchMethod.Bool => v => v.AsBool,
            _ => Patterns(matchMethod, ignoreCase, files, filesAreMaps, config.Patterns, registry.Patterns),
        };

        if (expr.DependsOnContent)
        {
            return new Acl(ctx => expr.TryEvaluate(ctx, out var v) && match(v) ? AclResult.Pass : ctx.ContentFinal ? AclResult.Fail : AclResult.Miss);
        }

        return new Acl(ctx => expr.TryEvaluate(ctx, out var v) && match(v));
    }

    /// <summary>
    /// The patterns of the ACL: each <c>-f</c> file is the shared reference of that name (what
    /// Lua's core.add_acl and the control plane change), the inline patterns a reference of their
    /// own; each indexed for the method. An ACL without any pattern never matches.
    /// </summary>
    private static Func<Sample, bool> Patterns(MatchMethod method, bool ignoreCase, List<string> files, bool filesAreMaps, ImmutableArray<string> inline, PatternStore store)
    {
        var indexes = new List<PatternIndex>();
        foreach (var file in files)
        {
            indexes.Add(store.Load(file, filesAreMaps).GetIndex(method, ignoreCase));
        }

        if (inline.Length > 0)
        {
            var patterns = method is MatchMethod.Int or MatchMethod.Len ? IntOperators(inline) : inline.AsEnumerable();
            indexes.Add(PatternStore.Inline(patterns).GetIndex(method, ignoreCase));
        }

        return indexes.Count switch
        {
            0 => _ => false,
            1 => v => indexes[0].Match(v) is not null,
            _ => v => indexes.Exists(i => i.Match(v) is not null),
        };
    }

    /// <summary>HAProxy's integer operators (<c>eq N</c>, <c>ge N</c>, <c>gt N</c>, <c>le N</c>, <c>lt N</c>) as ranges.</summary>
    private static List<string> IntOperators(ImmutableArray<string> patterns)
    {
        var result = new List<string>(patterns.Length);
        for (int i = 0; i < patterns.Length; i++)
        {
            string p = patterns[i];
            if (p is not ("eq" or "ge" or "gt" or "le" or "lt"))
            {
                result.Add(p);
                continue;
            }

            if (++i >= patterns.Length)
            {
                throw new FormatException($"operator '{p}' expects a number");
            }

            long n = IntIndex.ParseLong(patterns[i]);
            string N(long x) => x.ToString(CultureInfo.InvariantCulture);
            result.Add(p switch
            {
                "eq" => N(n),
                "ge" => N(n) + ":",
                "le" => ":" + N(n),
                "gt" => n == long.MaxValue ? "1:0" : N(n + 1) + ":",
                _ => n == long.MinValue ? "1:0" : ":" + N(n - 1),
            });
        }

        return result;
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
