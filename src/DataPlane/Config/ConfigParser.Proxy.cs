using System.Collections.Immutable;

namespace HaLua.DataPlane.Config;

/// <summary><c>defaults</c>, <c>frontend</c>, <c>backend</c> and <c>listen</c> keywords.</summary>
internal sealed partial class ConfigParser
{
    [Flags]
    private enum Where { D = 1, F = 2, L = 4, B = 8, FLB = F | L | B, All = D | F | L | B }

    /// <summary>Keywords of the HTTP engine and other features that come later: an error, never ignored.</summary>
    private static readonly HashSet<string> NotYet =
    [
        "http-after-response", "http-send-name-header", "capture", "cookie", "compression", "stick-table", "stick",
        "redirect", "monitor-uri", "monitor",
        "log-format-sd", "error-log-format", "unique-id-format", "unique-id-header", "hash-type", "filter", "stats",
        "fullconn", "description", "id", "source", "dispatch", "force-persist", "ignore-persist", "persist", "email-alert",
        "declare", "default-server", "server-template", "load-server-state-from-file", "rate-limit", "max-keep-alive-queue",
        "http-error", "use-server", "grace", "bind-process", "external-check", "errorfiles", "enabled", "disabled",
    ];

    private void ParseProxyKeyword(ConfigLine line, ProxyBuilder px)
    {
        var w = line.Words;
        var loc = line.Location;
        string kw = w[0];
        switch (kw)
        {
            case "bind":
                if (Allowed(line, px, Where.F | Where.L))
                {
                    ParseBind(line, px);
                }

                return;
            case "mode":
                if (Allowed(line, px, Where.All) && Args(line, 1))
                {
                    switch (w[1])
                    {
                        case "tcp":
                            px.Mode = ProxyMode.Tcp;
                            break;
                        case "http":
                            px.Mode = ProxyMode.Http;
                            break;
                        default:
                            Error(loc, kw, $"unknown proxy mode '{w[1]}' (expected 'tcp' or 'http')");
                            break;
                    }
                }

                return;
            case "timeout":
                ParseTimeout(line, px);
                return;
            case "contimeout":
            case "clitimeout":
            case "srvtimeout":
                Error(loc, kw, $"'{kw}' was removed from HAProxy; use 'timeout connect|client|server'");
                return;
            case "maxconn":
                if (Allowed(line, px, Where.D | Where.F | Where.L) && Int(line, 1, 0, int.MaxValue) is { } mc)
                {
                    px.MaxConn = mc;
                }

                return;
            case "default_backend":
                if (Allowed(line, px, Where.D | Where.F | Where.L) && Args(line, 1))
                {
                    px.DefaultBackend = w[1];
                    px.DefaultBackendLocation = loc;
                }

                return;
            case "use_backend":
                if (Allowed(line, px, Where.F | Where.L))
                {
                    ParseUseBackend(line, px);
                }

                return;
            case "acl":
                if (Allowed(line, px, Where.FLB))
                {
                    ParseAcl(line, px);
                }

                return;
            case "balance":
                if (Allowed(line, px, Where.D | Where.L | Where.B))
                {
                    ParseBalance(line, px);
                }

                return;
            case "retries":
                if (Allowed(line, px, Where.D | Where.L | Where.B) && Int(line, 1, 0, 1000) is { } r)
                {
                    px.Retries = r;
                }

                return;
            case "option":
            case "no":
                ParseOption(line, px);
                return;
            case "server":
                if (Allowed(line, px, Where.L | Where.B))
                {
                    ParseServer(line, px);
                }

                return;
            case "tcp-request":
                if (Allowed(line, px, Where.FLB))
                {
                    ParseTcpRequest(line, px);
                }

                return;
            case "http-request":
                if (Allowed(line, px, Where.FLB))
                {
                    ParseHttpRequest(line, px);
                }

                return;
            case "http-response":
                if (Allowed(line, px, Where.FLB))
                {
                    ParseHttpResponse(line, px);
                }

                return;
            case "tcp-response":
                if (Allowed(line, px, Where.L | Where.B))
                {
                    ParseTcpResponse(line, px);
                }

                return;
            case "http-check":
                ParseHttpCheck(line, px);
                return;
            case "errorfile":
            case "errorloc":
            case "errorloc302":
            case "errorloc303":
                ParseErrorPage(line, px);
                return;
            case "http-reuse":
                if (Allowed(line, px, Where.D | Where.L | Where.B) && Args(line, 1))
                {
                    HttpReuseMode? reuse = w[1] switch
                    {
                        "never" => HttpReuseMode.Never,
                        "safe" => HttpReuseMode.Safe,
                        "aggressive" => HttpReuseMode.Aggressive,
                        "always" => HttpReuseMode.Always,
                        _ => null,
                    };
                    if (reuse is null)
                    {
                        Error(loc, kw, $"unknown mode '{w[1]}' (never, safe, aggressive, always)");
                    }
                    else
                    {
                        px.HttpReuse = reuse.Value;
                    }
                }

                return;
            case "log":
                if (Allowed(line, px, Where.All))
                {
                    ParseProxyLog(line, px);
                }

                return;
            case "log-format":
                if (Allowed(line, px, Where.All))
                {
                    ParseLogFormat(line, px);
                }

                return;
        }

        if (NotYet.Contains(kw))
        {
            Error(loc, kw, $"'{kw}' is not supported yet by HaLua");
            return;
        }

        Error(loc, kw, $"unknown keyword '{kw}' in '{SectionKind(px)}' section");
    }

    private static string SectionKind(ProxyBuilder px) => px.IsDefaults ? "defaults" : px.Capabilities switch
    {
        ProxyCapabilities.Frontend => "frontend",
        ProxyCapabilities.Backend => "backend",
        _ => "listen",
    };

    private bool Allowed(ConfigLine line, ProxyBuilder px, Where where)
    {
        Where here = px.IsDefaults ? Where.D : px.Capabilities switch
        {
            ProxyCapabilities.Frontend => Where.F,
            ProxyCapabilities.Backend => Where.B,
            _ => Where.L,
        };
        if ((where & here) != 0)
        {
            return true;
        }

        Error(line.Location, line.Words[0], $"'{line.Words[0]}' is not allowed in a '{SectionKind(px)}' section");
        return false;
    }

    private bool Args(ConfigLine line, int count)
    {
        if (line.Words.Count == count + 1)
        {
            return true;
        }

        Error(line.Location, line.Words[0], line.Words.Count <= count
            ? $"'{line.Words[0]}' expects {count} argument(s)"
            : $"unexpected argument '{line.Words[count + 1]}'");
        return false;
    }

    private void ParseBind(ConfigLine line, ProxyBuilder px)
    {
        var w = line.Words;
        if (w.Count < 2)
        {
            Error(line.Location, "bind", "'bind' expects an address:port");
            return;
        }

        string? name = null;
        for (int i = 2; i < w.Count; i++)
        {
            if (w[i] == "name" && i + 1 < w.Count)
            {
                name = w[++i];
            }
            else
            {
                Error(line.Location, "bind", $"unsupported bind option '{w[i]}'");
                return;
            }
        }

        foreach (var addr in w[1].Split(','))
        {
            if (ConfigValues.TryParseBind(addr, out var ep, out var err))
            {
                px.Binds.Add(new BindConfig(ep!, name, line.Location));
            }
            else
            {
                Error(line.Location, "bind", err!);
            }
        }
    }

    private void ParseTimeout(ConfigLine line, ProxyBuilder px)
    {
        var w = line.Words;
        if (w.Count < 2)
        {
            Error(line.Location, "timeout", "'timeout' expects a kind (connect, client, server, tunnel, queue, http-request, http-keep-alive, check) and a time");
            return;
        }

        string kind = w[1];
        Where where = kind switch
        {
            "client" => Where.D | Where.F | Where.L,
            "http-request" or "http-keep-alive" => Where.All,
            "connect" or "server" or "tunnel" or "queue" or "check" => Where.D | Where.L | Where.B,
            _ => 0,
        };
        if (where == 0)
        {
            Error(line.Location, $"timeout {kind}", $"unknown timeout '{kind}'");
            return;
        }

        var kwLine = line with { Words = [$"timeout {kind}", .. w.Skip(2)] };
        if (!Allowed(kwLine, px, where) || Time(line, 2) is not { } t)
        {
            return;
        }

        px.Timeouts = kind switch
        {
            "connect" => px.Timeouts with { Connect = t },
            "client" => px.Timeouts with { Client = t },
            "server" => px.Timeouts with { Server = t },
            "tunnel" => px.Timeouts with { Tunnel = t },
            "queue" => px.Timeouts with { Queue = t },
            "http-request" => px.Timeouts with { HttpRequest = t },
            "http-keep-alive" => px.Timeouts with { HttpKeepAlive = t },
            _ => px.Timeouts with { Check = t },
        };
    }

    private void ParseBalance(ConfigLine line, ProxyBuilder px)
    {
        if (!Args(line, 1))
        {
            return;
        }

        switch (line.Words[1])
        {
            case "roundrobin":
                px.Balance = BalanceAlgorithm.RoundRobin;
                break;
            case "static-rr":
                px.Balance = BalanceAlgorithm.StaticRoundRobin;
                break;
            case "leastconn":
                px.Balance = BalanceAlgorithm.LeastConn;
                break;
            case "first":
                px.Balance = BalanceAlgorithm.First;
                break;
            case "source":
                px.Balance = BalanceAlgorithm.Source;
                break;
            case var other:
                Error(line.Location, "balance", $"unsupported balance algorithm '{other}' (roundrobin, static-rr, leastconn, first, source)");
                break;
        }
    }

    private void ParseOption(ConfigLine line, ProxyBuilder px)
    {
        var w = line.Words;
        bool negate = w[0] == "no";
        int at = negate ? 1 : 0;
        if (negate && w.Count >= 2 && w[1] == "log")
        {
            ParseNoLog(line, px);
            return;
        }

        if (negate && (w.Count < 2 || w[1] != "option"))
        {
            Error(line.Location, "no", "'no' must be followed by 'option'");
            return;
        }

        if (w.Count <= at + 1)
        {
            Error(line.Location, "option", "'option' expects an option name");
            return;
        }

        string name = w[at + 1];
        string kw = $"option {name}";
        var optLine = line with { Words = [kw, .. w.Skip(at + 2)] };
        switch (name)
        {
            case "redispatch":
                if (Allowed(optLine, px, Where.D | Where.L | Where.B))
                {
                    if (w.Count > at + 2)
                    {
                        Error(line.Location, kw, "redispatch intervals are not supported");
                        return;
                    }

                    px.Redispatch = !negate;
                }

                return;
            case "forwardfor":
                if (Allowed(optLine, px, Where.All))
                {
                    if (w.Count > at + 2)
                    {
                        Error(line.Location, kw, $"'option forwardfor {w[at + 2]}' is not supported yet by HaLua (only the plain option)");
                        return;
                    }

                    px.ForwardFor = !negate;
                }

                return;
            case "socket-stats":
                if (Allowed(optLine, px, Where.D | Where.F | Where.L) && Args(optLine, 0))
                {
                    px.SocketStats = !negate;
                }

                return;
            case "tcplog":
            case "httplog":
            case "dontlognull":
                ParseLogOption(optLine, px, name, negate);
                return;
            case "http-server-close":
            case "httpclose":
            case "http-keep-alive":
                if (Allowed(optLine, px, Where.All))
                {
                    if (w.Count > at + 2)
                    {
                        Error(line.Location, kw, $"unexpected argument '{w[at + 2]}'");
                        return;
                    }

                    // "no option X" goes back to the default, keep-alive.
                    px.HttpConnectionMode = negate ? HttpConnectionMode.KeepAlive : name switch
                    {
                        "http-server-close" => HttpConnectionMode.ServerClose,
                        "httpclose" => HttpConnectionMode.Close,
                        _ => HttpConnectionMode.KeepAlive,
                    };
                }

                return;
            case "http-buffer-request":
                if (Allowed(optLine, px, Where.All))
                {
                    if (w.Count > at + 2)
                    {
                        Error(line.Location, kw, $"unexpected argument '{w[at + 2]}'");
                        return;
                    }

                    px.BufferRequest = !negate;
                }

                return;
            case "httpchk":
                ParseOptionHttpChk(optLine, px, negate);
                return;
            case "logasap":
            case "tcpka":
            case "clitcpka":
            case "srvtcpka":
            case "abortonclose":
            case "allbackups":
            case "persist":
            case "splice-auto":
                Error(line.Location, kw, $"'{kw}' is not supported yet by HaLua");
                return;
            default:
                Error(line.Location, kw, $"unknown option '{name}'");
                return;
        }
    }

    private void ParseServer(ConfigLine line, ProxyBuilder px)
    {
        var w = line.Words;
        if (w.Count < 3)
        {
            Error(line.Location, "server", "'server' expects <name> and <address>:<port>");
            return;
        }

        string name = w[1];
        if (!IsValidName(name))
        {
            Error(line.Location, "server", $"invalid character in server name '{name}'");
            return;
        }

        string addr = w[2];
        if (addr.StartsWith("ipv4@", StringComparison.Ordinal) || addr.StartsWith("ipv6@", StringComparison.Ordinal))
        {
            addr = addr[5..];
        }
        else if (addr.Contains('@', StringComparison.Ordinal) || addr.StartsWith('/'))
        {
            Error(line.Location, "server", $"unsupported server address '{w[2]}' (IPv4, IPv6 or host name with a port)");
            return;
        }

        if (!ConfigValues.SplitHostPort(addr, out string host, out string? portText) || host.Length == 0)
        {
            Error(line.Location, "server", $"invalid address '{w[2]}'");
            return;
        }

        if (portText is null || !ConfigValues.TryParseInt(portText, 1, 65535, out int port))
        {
            Error(line.Location, "server", portText is null ? $"missing port in '{w[2]}'" : $"invalid port '{portText}' in '{w[2]}'");
            return;
        }

        if (!System.Net.IPAddress.TryParse(host, out _) && !IsHostName(host))
        {
            Error(line.Location, "server", $"invalid address '{host}'");
            return;
        }

        var s = new ServerConfig(name, host, port, line.Location);
        for (int i = 3; i < w.Count; i++)
        {
            string opt = w[i];
            string? Next()
            {
                if (i + 1 < w.Count)
                {
                    return w[++i];
                }

                Error(line.Location, "server", $"'{opt}' expects an argument");
                return null;
            }

            int? IntArg(int min, int max, string hint = "")
            {
                if (Next() is not { } v)
                {
                    return null;
                }

                if (ConfigValues.TryParseInt(v, min, max, out int value))
                {
                    return value;
                }

                Error(line.Location, "server", $"invalid '{opt}' value '{v}'{hint}");
                return null;
            }

            TimeSpan? TimeArg(bool positive)
            {
                if (Next() is not { } v)
                {
                    return null;
                }

                if (ConfigValues.TryParseTime(v, out var t) && (!positive || t > TimeSpan.Zero))
                {
                    return t;
                }

                Error(line.Location, "server", $"invalid '{opt}' time '{v}'");
                return null;
            }

            switch (opt)
            {
                case "check":
                    s = s with { Check = true };
                    break;
                case "no-check":
                    s = s with { Check = false };
                    break;
                case "backup":
                    s = s with { Backup = true };
                    break;
                case "disabled":
                    s = s with { Disabled = true };
                    break;
                case "enabled":
                    s = s with { Disabled = false };
                    break;
                case "weight":
                    if (Next() is not { } wv)
                    {
                        return;
                    }

                    if (!ConfigValues.TryParseInt(wv, 0, 256, out int weight))
                    {
                        Error(line.Location, "server", $"invalid weight '{wv}' (expected 0 to 256)");
                        return;
                    }

                    s = s with { Weight = weight };
                    break;
                case "inter":
                    if (TimeArg(positive: true) is not { } inter)
                    {
                        return;
                    }

                    s = s with { Inter = inter };
                    break;
                case "rise":
                case "fall":
                    if (IntArg(1, 1_000_000, " (expected a positive integer)") is not { } count)
                    {
                        return;
                    }

                    s = opt == "rise" ? s with { Rise = count } : s with { Fall = count };
                    break;
                case "maxconn":
                    if (IntArg(0, int.MaxValue) is not { } maxconn)
                    {
                        return;
                    }

                    s = s with { MaxConn = maxconn };
                    break;
                case "port":
                    if (IntArg(1, 65535, " (expected 1 to 65535)") is not { } checkPort)
                    {
                        return;
                    }

                    s = s with { CheckPort = checkPort };
                    break;
                case "addr":
                    if (Next() is not { } av)
                    {
                        return;
                    }

                    if (!System.Net.IPAddress.TryParse(av, out var checkAddress))
                    {
                        Error(line.Location, "server", $"invalid 'addr' '{av}' (an IPv4 or IPv6 address)");
                        return;
                    }

                    s = s with { CheckAddress = checkAddress };
                    break;
                case "pool-max-conn":
                    if (IntArg(-1, int.MaxValue, " (-1 for no limit)") is not { } poolMax)
                    {
                        return;
                    }

                    s = s with { PoolMaxConn = poolMax };
                    break;
                case "pool-purge-delay":
                    if (TimeArg(positive: false) is not { } purge)
                    {
                        return;
                    }

                    s = s with { PoolPurgeDelay = purge };
                    break;
                default:
                    Error(line.Location, "server", $"unsupported server option '{opt}'");
                    return;
            }
        }

        if (px.Servers.Any(x => x.Name == name))
        {
            Error(line.Location, "server", $"server '{name}' already declared in this backend");
            return;
        }

        px.Servers.Add(s);
    }

    private static bool IsHostName(string h) => h.Length <= 253 && h.Split('.').All(l => l.Length is > 0 and <= 63 && l.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'));

    private void ParseTcpRequest(ConfigLine line, ProxyBuilder px)
    {
        var w = line.Words;
        if (w.Count >= 2 && w[1] == "inspect-delay")
        {
            if (Time(line with { Words = ["tcp-request inspect-delay", .. w.Skip(2)] }, 1) is { } t)
            {
                px.InspectDelay = t;
            }

            return;
        }

        if (w.Count >= 2 && w[1] == "content")
        {
            if (ParseTcpRule(line, "tcp-request content", allowService: true) is { } rule)
            {
                px.TcpRequestContent.Add(rule);
            }

            return;
        }

        Error(line.Location, "tcp-request", w.Count < 2 ? "'tcp-request' expects 'inspect-delay' or 'content'" : $"'tcp-request {w[1]}' is not supported yet by HaLua");
    }

    private void ParseTcpResponse(ConfigLine line, ProxyBuilder px)
    {
        var w = line.Words;
        if (w.Count >= 2 && w[1] == "content")
        {
            if (ParseTcpRule(line, "tcp-response content", allowService: false) is { } rule)
            {
                px.TcpResponseContent.Add(rule);
            }

            return;
        }

        Error(line.Location, "tcp-response", w.Count < 2 ? "'tcp-response' expects 'content'" : $"'tcp-response {w[1]}' is not supported yet by HaLua");
    }

    private TcpRuleConfig? ParseTcpRule(ConfigLine line, string kw, bool allowService)
    {
        var w = line.Words;
        if (w.Count < 3)
        {
            Error(line.Location, kw, $"'{kw}' expects an action");
            return null;
        }

        int condAt = IndexOfCondition(w, 3);
        var args = w.Skip(3).Take(condAt - 3).ToImmutableArray();
        ConditionConfig? cond = null;
        if (condAt < w.Count)
        {
            cond = ParseCondition(line, kw, condAt);
            if (cond is null)
            {
                return null;
            }
        }

        string action = w[2];
        switch (action)
        {
            case "accept":
            case "reject":
                if (args.Length > 0)
                {
                    Error(line.Location, kw, $"unexpected argument '{args[0]}' after '{action}'");
                    return null;
                }

                return new TcpRuleConfig(action == "accept" ? TcpRuleKind.Accept : TcpRuleKind.Reject, null, [], cond, line.Location);
            case "use-service":
                if (!allowService)
                {
                    Error(line.Location, kw, "'use-service' is only available in 'tcp-request content'");
                    return null;
                }

                if (args.Length != 1 || !args[0].StartsWith("lua.", StringComparison.Ordinal) || args[0].Length == 4)
                {
                    Error(line.Location, kw, "'use-service' expects one service name 'lua.<name>'");
                    return null;
                }

                return new TcpRuleConfig(TcpRuleKind.UseService, args[0][4..], [], cond, line.Location);
        }

        if (action.StartsWith("lua.", StringComparison.Ordinal) && action.Length > 4)
        {
            return new TcpRuleConfig(TcpRuleKind.LuaAction, action[4..], args, cond, line.Location);
        }

        if (action == "set-log-level")
        {
            return IsLogLevelRule(line, $"{kw} set-log-level", args) ? new TcpRuleConfig(TcpRuleKind.SetLogLevel, null, args, cond, line.Location) : null;
        }

        if (VarActionName(action, out string verb) is { } varName)
        {
            if (!Samples.Variables.TryParse(varName, out _, out _))
            {
                Error(line.Location, $"{kw} {verb}", $"invalid variable name '{varName}' (expected proc., sess., txn., req. or res. and a name)");
                return null;
            }

            if (args.Length != (verb == "set-var" ? 1 : 0))
            {
                Error(line.Location, $"{kw} {verb}", verb == "set-var" ? "'set-var(<name>)' expects one sample expression" : $"unexpected argument '{args[0]}'");
                return null;
            }

            return new TcpRuleConfig(verb == "set-var" ? TcpRuleKind.SetVar : TcpRuleKind.UnsetVar, null, [varName, .. args], cond, line.Location);
        }

        Error(line.Location, kw, $"action '{action}' is not supported (accept, reject, use-service lua.<name>, lua.<name>, set-log-level, set-var(<name>), unset-var(<name>))");
        return null;
    }

    private static int IndexOfCondition(IReadOnlyList<string> w, int from)
    {
        for (int i = from; i < w.Count; i++)
        {
            if (w[i] is "if" or "unless")
            {
                return i;
            }
        }

        return w.Count;
    }

    private void ParseUseBackend(ConfigLine line, ProxyBuilder px)
    {
        var w = line.Words;
        if (w.Count < 2)
        {
            Error(line.Location, "use_backend", "'use_backend' expects a backend name");
            return;
        }

        ConditionConfig? cond = null;
        if (w.Count > 2)
        {
            if (w[2] is not ("if" or "unless"))
            {
                Error(line.Location, "use_backend", $"unexpected argument '{w[2]}' (expected 'if' or 'unless')");
                return;
            }

            cond = ParseCondition(line, "use_backend", 2);
            if (cond is null)
            {
                return;
            }
        }

        px.UseBackends.Add(new UseBackendRule(w[1], cond, line.Location));
    }

    private void ParseAcl(ConfigLine line, ProxyBuilder px)
    {
        var w = line.Words;
        if (w.Count < 3)
        {
            Error(line.Location, "acl", "'acl' expects a name, a fetch and patterns");
            return;
        }

        if (!IsValidName(w[1]))
        {
            Error(line.Location, "acl", $"invalid character in ACL name '{w[1]}'");
            return;
        }

        if (ParseAclBody(line, "acl", w[1], w.Skip(2).ToList()) is { } acl)
        {
            px.Acls.Add(acl);
        }
    }

    /// <summary>FETCH [flags] [--] PATTERNS: flags are kept for the ACL compiler.</summary>
    private AclConfig? ParseAclBody(ConfigLine line, string kw, string name, List<string> words)
    {
        if (words.Count == 0)
        {
            Error(line.Location, kw, "missing fetch method in ACL");
            return null;
        }

        var flags = ImmutableArray.CreateBuilder<string>();
        int i = 1;
        while (i < words.Count && words[i].StartsWith('-'))
        {
            string f = words[i];
            if (f == "--")
            {
                i++;
                break;
            }

            if (f is "-m" or "-f" or "-u")
            {
                if (i + 1 >= words.Count)
                {
                    Error(line.Location, kw, $"ACL flag '{f}' expects an argument");
                    return null;
                }

                flags.Add(f);
                flags.Add(words[i + 1]);
                i += 2;
                continue;
            }

            if (f is "-i" or "-n" or "-M")
            {
                flags.Add(f);
                i++;
                continue;
            }

            // A negative number is a pattern, not a flag.
            if (f.Length > 1 && char.IsAsciiDigit(f[1]))
            {
                break;
            }

            Error(line.Location, kw, $"unknown ACL flag '{f}'");
            return null;
        }

        return new AclConfig(name, words[0], flags.ToImmutable(), [.. words.Skip(i)], line.Location);
    }
}
