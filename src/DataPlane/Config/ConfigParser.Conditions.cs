using System.Collections.Immutable;

namespace HaLua.DataPlane.Config;

/// <summary>Conditions (<c>if|unless</c> ACL expressions) and the checks that need the whole file.</summary>
internal sealed partial class ConfigParser
{
    /// <summary>HAProxy's predefined ACLs that the TCP engine can evaluate.</summary>
    internal static readonly ImmutableHashSet<string> PredefinedAcls = ["TRUE", "FALSE", "LOCALHOST", "REQ_CONTENT", "WAIT_END"];

    private ConditionConfig? ParseCondition(ConfigLine line, string kw, int at)
    {
        var w = line.Words;
        bool unless = w[at] == "unless";
        var groups = ImmutableArray.CreateBuilder<ImmutableArray<AclTerm>>();
        var terms = ImmutableArray.CreateBuilder<AclTerm>();
        int i = at + 1;
        if (i >= w.Count)
        {
            Error(line.Location, kw, $"missing condition after '{w[at]}'");
            return null;
        }

        while (i < w.Count)
        {
            string word = w[i];
            if (word is "||" or "or")
            {
                if (terms.Count == 0)
                {
                    Error(line.Location, kw, $"'{word}' without a condition before it");
                    return null;
                }

                groups.Add(terms.ToImmutable());
                terms.Clear();
                i++;
                continue;
            }

            bool negate = false;
            if (word == "!")
            {
                negate = true;
                if (++i >= w.Count)
                {
                    Error(line.Location, kw, "'!' at the end of the condition");
                    return null;
                }

                word = w[i];
            }
            else if (word.StartsWith('!'))
            {
                negate = true;
                word = word[1..];
            }

            if (word == "{")
            {
                int close = i + 1;
                while (close < w.Count && w[close] != "}")
                {
                    close++;
                }

                if (close >= w.Count)
                {
                    Error(line.Location, kw, "missing '}' after anonymous ACL");
                    return null;
                }

                var body = w.Skip(i + 1).Take(close - i - 1).ToList();
                var acl = ParseAclBody(line, kw, "", body);
                if (acl is null)
                {
                    return null;
                }

                terms.Add(new AclTerm(negate, null, acl));
                i = close + 1;
                continue;
            }

            if (word.StartsWith('{'))
            {
                Error(line.Location, kw, "anonymous ACLs need spaces around the braces ('{ fetch pattern }')");
                return null;
            }

            terms.Add(new AclTerm(negate, word, null));
            i++;
        }

        if (terms.Count == 0)
        {
            Error(line.Location, kw, "condition ends with '||'");
            return null;
        }

        groups.Add(terms.ToImmutable());
        return new ConditionConfig(unless, groups.ToImmutable(), line.Location);
    }

    private void Validate()
    {
        foreach (var px in _proxies)
        {
            _sectionName = $"{SectionKind(px)} {px.Name}";
            if (px.Capabilities.HasFlag(ProxyCapabilities.Frontend) && px.Binds.Count == 0)
            {
                _warnings.Add($"{px.Location} : {SectionKind(px)} '{px.Name}' has no 'bind' directive.");
            }

            if (px.DefaultBackend is { } db)
            {
                CheckBackendRef(px, db, px.DefaultBackendLocation, "default_backend");
            }

            foreach (var ub in px.UseBackends)
            {
                if (!ub.Backend.Contains("%[", StringComparison.Ordinal))
                {
                    // A dynamic name (%[...]) is resolved per stream.
                    CheckBackendRef(px, ub.Backend, ub.Location, "use_backend");
                }

                CheckCondition(px, ub.Condition, "use_backend");
            }

            foreach (var r in px.TcpRequestContent)
            {
                CheckCondition(px, r.Condition, "tcp-request content");
            }

            foreach (var r in px.TcpResponseContent)
            {
                CheckCondition(px, r.Condition, "tcp-response content");
            }

            ValidateLogs(px);

            if (px.HttpCheckRequest is null && (px.HttpCheckSend is not null || px.HttpCheckExpects.Count > 0) && px.Capabilities.HasFlag(ProxyCapabilities.Backend))
            {
                _warnings.Add($"{px.Location} : {SectionKind(px)} '{px.Name}' uses http-check rules without 'option httpchk', so the rules are ignored.");
            }

            foreach (var s in px.Servers.Where(s => s.Check))
            {
                if (s.Rise < 1 || s.Fall < 1)
                {
                    Error(s.Location, "server", "'rise' and 'fall' must be at least 1");
                }
            }
        }
    }

    private void CheckBackendRef(ProxyBuilder px, string name, SourceLocation loc, string kw)
    {
        var be = _proxies.FirstOrDefault(p => p.Name == name && p.Capabilities.HasFlag(ProxyCapabilities.Backend));
        if (be is null)
        {
            Error(loc, kw, $"unable to find required {kw} backend '{name}'");
            return;
        }

        if (be.Mode != px.Mode)
        {
            Error(loc, kw, $"{SectionKind(px)} '{px.Name}' (mode {px.Mode.ToString().ToLowerInvariant()}) cannot use backend '{name}' (mode {be.Mode.ToString().ToLowerInvariant()})");
        }
    }

    private void CheckCondition(ProxyBuilder px, ConditionConfig? cond, string kw)
    {
        if (cond is null)
        {
            return;
        }

        foreach (var term in cond.AnyOf.SelectMany(g => g))
        {
            if (term.Name is { } name && !px.Acls.Any(a => a.Name == name) && !PredefinedAcls.Contains(name))
            {
                Error(cond.Location, kw, $"no such ACL : '{name}'");
            }
        }
    }
}
