using System.Net;
using System.Net.Sockets;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Lua;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Runtime;

/// <summary>Config files → a runnable <see cref="Generation"/>, or every error found (file:line first).</summary>
internal static class GenerationBuilder
{
    public static (Generation? Generation, List<string> Errors) Build(IReadOnlyList<string> files)
    {
        var parsed = ConfigParser.ParseFiles(files);
        foreach (var w in parsed.Warnings)
        {
            ProcessLog.Instance.Warning(w);
        }

        if (parsed.Config is null)
        {
            // Every error in one run: the Lua files named by the global section are still loaded
            // and checked, whatever else is wrong.
            var errors = parsed.Errors.Select(e => e.ToString()).ToList();
            if (parsed.PartialGlobal is { LuaLoads.Length: > 0 } g)
            {
                using var lua = new LuaEngine(
                    new LuaSettings(g.LuaSessionTimeout, g.LuaTaskTimeout, g.LuaServiceTimeout, g.LuaForcedYield, g.LuaMaxMem, Math.Max(1, g.NbThread)),
                    SampleRegistry.CreateDefault());
                errors.AddRange(lua.Load(g.LuaLoads, g.LuaPrependPaths));
            }

            return (null, errors);
        }

        ProcessLog.Instance.Json = parsed.Config.Global.JsonProcessLog;
        return Build(parsed.Config);
    }

    public static (Generation? Generation, List<string> Errors) Build(HaLuaConfig config)
    {
        var errors = new List<string>();
        var g = config.Global;
        var samples = SampleRegistry.CreateDefault();
        var lua = new LuaEngine(
            new LuaSettings(g.LuaSessionTimeout, g.LuaTaskTimeout, g.LuaServiceTimeout, g.LuaForcedYield, g.LuaMaxMem, Math.Max(1, g.NbThread)) { HttpClientVerify = g.HttpClientSslVerify },
            samples);
        var info = new Stats.ProcessInfo(g);
        lua.InfoProvider = info.Rows;
        errors.AddRange(lua.Load(g.LuaLoads, g.LuaPrependPaths));
        LuaSampleFunctions.AddTo(lua, samples);

        var proxies = config.Proxies.Select(p => new ProxyRuntime(p, g.MaxConn)).ToList();
        foreach (var px in proxies)
        {
            BuildServers(px, Math.Max(1, g.NbThread), errors);
            BuildListeners(px);
        }

        foreach (var px in proxies)
        {
            CompileRules(px, proxies, lua, samples, errors);
        }

        SetFullConn(proxies);
        AccessLogs.Build(proxies, g.Logs, samples, errors);

        var generation = new Generation(config, lua, samples, proxies) { Info = info };
        if (errors.Count > 0)
        {
            generation.Dispose();
            return (null, errors);
        }

        // From here on (init functions, tasks, actions...) scripts see the proxies; the body did not (HAProxy).
        lua.PublishProxies(proxies);

        return (generation, errors);
    }

    private static void BuildServers(ProxyRuntime px, int nbThread, List<string> errors)
    {
        if (px.Backend is not { } be)
        {
            return;
        }

        var servers = new List<ServerState>();
        int id = 1;
        foreach (var s in px.Config.Servers)
        {
            var addr = Resolve(s.Host);
            if (addr is null)
            {
                errors.Add($"{s.Location} : 'server' in section '{(px.Config.Capabilities == ProxyCapabilities.Backend ? "backend" : "listen")} {px.Name}': could not resolve address '{s.Host}'");
                continue;
            }

            servers.Add(new ServerState(s, id++, be, new IPEndPoint(addr, s.Port), nbThread));
        }

        be.SetServers(servers);
    }

    /// <summary>
    /// HAProxy's default <c>fullconn</c> of a backend (its stats' slim): a tenth, rounded up, of the
    /// maxconn of the frontends whose rules name it (a listen section counts for itself).
    /// </summary>
    private static void SetFullConn(List<ProxyRuntime> proxies)
    {
        foreach (var be in proxies.Where(p => p.Backend is not null))
        {
            long total = proxies.Where(fe => fe.IsFrontend && (fe == be || fe.DefaultBackend == be || fe.UseBackends.Any(u => u.Backend == be))).Sum(fe => (long)fe.MaxConn);
            be.Backend!.FullConn = (int)Math.Min(int.MaxValue, (total + 9) / 10);
        }
    }

    /// <summary>A frontend's listeners, made now (started by the host) so that Lua's init functions already see them.</summary>
    private static void BuildListeners(ProxyRuntime px)
    {
        if (!px.IsFrontend)
        {
            return;
        }

        int n = 1;
        foreach (var bind in px.Config.Binds)
        {
            px.Listeners.Add(new Listeners.Listener(bind, bind.Name ?? $"sock-{n}", n));
            n++;
        }
    }

    private static IPAddress? Resolve(string host)
    {
        if (IPAddress.TryParse(host, out var ip))
        {
            return ip;
        }

        try
        {
            var all = Dns.GetHostAddresses(host);
            return all.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork) ?? all.FirstOrDefault();
        }
        catch (SocketException)
        {
            return null;
        }
    }

    private static void CompileRules(ProxyRuntime px, List<ProxyRuntime> all, LuaEngine lua, SampleRegistry samples, List<string> errors)
    {
        var cfg = px.Config;
        string section = $"{(cfg.Capabilities == ProxyCapabilities.Frontend ? "frontend" : cfg.Capabilities == ProxyCapabilities.Backend ? "backend" : "listen")} {cfg.Name}";
        // Every named ACL is compiled, used or not, so that its errors name its own line.
        var badAcls = new HashSet<string>(StringComparer.Ordinal);
        foreach (var acl in cfg.Acls)
        {
            try
            {
                _ = Acl.Compile(acl, samples);
            }
            catch (FormatException ex)
            {
                badAcls.Add(acl.Name);
                errors.Add($"{acl.Location} : 'acl' in section '{section}': acl '{acl.Name}': {ex.Message}");
            }
        }

        Condition? Cond(ConditionConfig? c, string kw)
        {
            if (c is null)
            {
                return null;
            }

            if (c.AnyOf.Any(g => g.Any(t => t.Name is { } n && badAcls.Contains(n))))
            {
                // already reported at the acl line
                return null;
            }

            try
            {
                return Condition.Compile(c, cfg.Acls, samples);
            }
            catch (FormatException ex)
            {
                errors.Add($"{c.Location} : '{kw}' in section '{section}': {ex.Message}");
                return null;
            }
        }

        // A use-service target: a registered service of the rule's mode.
        LuaRegistration? LuaService(string name, string mode, string where)
        {
            if (!lua.Services.TryGetValue(name, out var reg))
            {
                errors.Add($"{where}: Lua service 'lua.{name}' not found (register it with core.register_service)");
                return null;
            }

            if (reg.Mode != mode)
            {
                errors.Add($"{where}: Lua service 'lua.{name}' is a '{reg.Mode}' service; only '{mode}' services can be used from {mode}-request rules");
                return null;
            }

            return reg;
        }

        // A lua.NAME action: registered for this rule set, with exactly its number of arguments (REALITY.md).
        LuaRegistration? LuaAction(string name, LuaActionTargets target, int args, string where)
        {
            if (!lua.Actions.TryGetValue(name, out var reg))
            {
                errors.Add($"{where}: Lua action 'lua.{name}' not found (register it with core.register_action)");
                return null;
            }

            if ((reg.Targets & target) == 0)
            {
                string set = target switch { LuaActionTargets.TcpReq => "tcp-req", LuaActionTargets.TcpRes => "tcp-res", LuaActionTargets.HttpReq => "http-req", _ => "http-res" };
                errors.Add($"{where}: Lua action 'lua.{name}' is not registered for '{set}'");
                return null;
            }

            if (args != reg.NbArgs)
            {
                errors.Add($"{where}: Lua action 'lua.{name}' expects {reg.NbArgs} argument(s), got {args}");
                return null;
            }

            return reg;
        }

        TcpRule? Rule(TcpRuleConfig r, string kw, LuaActionTargets target)
        {
            var cond = Cond(r.Condition, kw);
            LuaRegistration? reg = null;
            switch (r.Kind)
            {
                case TcpRuleKind.UseService:
                    if ((reg = LuaService(r.LuaName!, "tcp", $"{r.Location} : '{kw} use-service' in section '{section}'")) is null)
                    {
                        return null;
                    }

                    break;
                case TcpRuleKind.LuaAction:
                    if ((reg = LuaAction(r.LuaName!, target, r.Args.Length, $"{r.Location} : '{kw}' in section '{section}'")) is null)
                    {
                        return null;
                    }

                    break;
            }

            (VariableScope, string, SampleExpression?)? variable = null;
            if (r.Kind is TcpRuleKind.SetVar or TcpRuleKind.UnsetVar)
            {
                // The name was checked by the parser.
                Variables.TryParse(r.Args[0], out var scope, out var name);
                try
                {
                    variable = (scope, name, r.Kind == TcpRuleKind.SetVar ? SampleExpression.Parse(r.Args[1], samples) : null);
                }
                catch (FormatException ex)
                {
                    errors.Add($"{r.Location} : '{kw}' in section '{section}': {ex.Message}");
                    return null;
                }
            }

            return new TcpRule(r.Kind, cond, reg, r.Args, r.Location, r.Kind == TcpRuleKind.SetLogLevel ? AccessLogs.RuleLevel(r.Args[0]) : 0) { Variable = variable };
        }

        px.TcpRequestRules = [.. cfg.TcpRequestContent.Select(r => Rule(r, "tcp-request content", LuaActionTargets.TcpReq)).OfType<TcpRule>()];
        px.TcpResponseRules = [.. cfg.TcpResponseContent.Select(r => Rule(r, "tcp-response content", LuaActionTargets.TcpRes)).OfType<TcpRule>()];
        if (cfg.Mode == ProxyMode.Http && (cfg.TcpRequestContent.Length > 0 || cfg.TcpResponseContent.Length > 0))
        {
            var first = cfg.TcpRequestContent.Length > 0 ? cfg.TcpRequestContent[0].Location : cfg.TcpResponseContent[0].Location;
            errors.Add($"{first} : 'tcp-request/tcp-response content' in section '{section}': not supported yet by HaLua in 'mode http' proxies");
        }

        px.HttpRequestRules = [.. CompileHttpRules(cfg.HttpRequestRules, "http-request")];
        px.HttpResponseRules = [.. CompileHttpRules(cfg.HttpResponseRules, "http-response")];

        List<HaLua.DataPlane.Http.HttpRule> CompileHttpRules(IEnumerable<HttpRuleConfig> rules, string keyword)
        {
            var httpRules = new List<HaLua.DataPlane.Http.HttpRule>();
            var phase = keyword == "http-request" ? LuaActionTargets.HttpReq : LuaActionTargets.HttpRes;
            foreach (var r in rules)
            {
                string kw = r.Keyword.Length > 0 ? r.Keyword : keyword;
                if (cfg.Mode != ProxyMode.Http)
                {
                    errors.Add($"{r.Location} : '{kw}' in section '{section}': http rules need 'mode http' (HAProxy ignores them in 'mode tcp'; HaLua refuses them)");
                    continue;
                }

                if (CompileHttpRule(r, kw, phase) is { } compiled)
                {
                    httpRules.Add(compiled);
                }
            }

            return httpRules;
        }

        HaLua.DataPlane.Http.HttpRule? CompileHttpRule(HttpRuleConfig r, string kw, LuaActionTargets phase)
        {
            string Where() => $"{r.Location} : '{kw}' in section '{section}'";
            try
            {
                HaLua.DataPlane.Logging.LogFormat? value = null;
                SampleExpression? expression = null;
                if (r.Kind == HttpRuleKind.SetVar)
                {
                    expression = SampleExpression.Parse(r.Value!, samples);
                }
                else if (r.Value is not null)
                {
                    value = HaLua.DataPlane.Logging.LogFormat.Compile(r.Value, samples);
                }

                // Variable names and regexes were checked by the parser.
                var scope = default(VariableScope);
                string? varName = null;
                if (r.Kind is HttpRuleKind.SetVar or HttpRuleKind.UnsetVar)
                {
                    Variables.TryParse(r.Name!, out scope, out varName);
                }

                var regex = r.Pattern is null ? null
                    : new System.Text.RegularExpressions.Regex(r.Pattern, System.Text.RegularExpressions.RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(100));

                LuaRegistration? service = null, action = null;
                if (r.Kind == HttpRuleKind.UseService && (service = LuaService(r.Name!, "http", Where())) is null)
                {
                    return null;
                }

                if (r.Kind == HttpRuleKind.LuaAction && (action = LuaAction(r.Name!, phase, r.Args.Length, Where())) is null)
                {
                    return null;
                }

                int status = r.Kind == HttpRuleKind.SetLogLevel ? AccessLogs.RuleLevel(r.Name!) : r.Status;

                return new HaLua.DataPlane.Http.HttpRule(r.Kind, Cond(r.Condition, kw), r.Name, value, status, r.ContentType, r.RedirectType, service)
                {
                    Regex = regex,
                    Expression = expression,
                    VarScope = scope,
                    VarName = varName,
                    Lua = action,
                    Args = r.Args,
                    DropQuery = r.DropQuery,
                    AppendSlash = r.AppendSlash,
                    Cookie = r.Cookie,
                    NameMatcher = r.NameMatch is null or "str" ? null : new HaLua.DataPlane.Http.HeaderNameMatcher(r.NameMatch, r.Name!),
                };
            }
            catch (FormatException ex)
            {
                errors.Add($"{Where()}: {ex.Message}");
                return null;
            }
        }

        var useBackends = new List<UseBackend>();
        Dictionary<string, ProxyRuntime>? sameMode = null;
        foreach (var ub in cfg.UseBackends)
        {
            if (ub.Backend.Contains("%[", StringComparison.Ordinal))
            {
                try
                {
                    var name = HaLua.DataPlane.Logging.LogFormat.Compile(ub.Backend, samples);
                    sameMode ??= all.Where(p => p.IsBackend && p.Config.Mode == cfg.Mode).ToDictionary(p => p.Name, StringComparer.Ordinal);
                    useBackends.Add(new UseBackend(null, Cond(ub.Condition, "use_backend")) { DynamicName = name, Backends = sameMode });
                }
                catch (FormatException ex)
                {
                    errors.Add($"{ub.Location} : 'use_backend' in section '{section}': {ex.Message}");
                }

                continue;
            }

            var target = all.FirstOrDefault(p => p.IsBackend && p.Name == ub.Backend);
            if (target is not null)
            {
                useBackends.Add(new UseBackend(target, Cond(ub.Condition, "use_backend")));
            }
        }

        px.UseBackends = useBackends;
        if (cfg.DefaultBackend is { } db)
        {
            px.DefaultBackend = all.FirstOrDefault(p => p.IsBackend && p.Name == db);
        }
    }
}
