using System.Collections.Immutable;
using System.Net;
using HaLua.DataPlane.Logging;

namespace HaLua.DataPlane.Config;

/// <summary>The <c>global</c> section.</summary>
internal sealed partial class ConfigParser
{
    private void ParseGlobal(ConfigLine line)
    {
        var w = line.Words;
        var loc = line.Location;
        string kw = w[0];
        switch (kw)
        {
            case "lua-load":
            case "lua-load-per-thread":
                if (w.Count < 2)
                {
                    Error(loc, kw, $"'{kw}' expects a path to a Lua file");
                    return;
                }

                _global = _global with { LuaLoads = _global.LuaLoads.Add(new LuaLoadConfig(w[1], kw == "lua-load-per-thread", [.. w.Skip(2)], loc)) };
                return;
            case "lua-prepend-path":
                if (w.Count is < 2 or > 3 || (w.Count == 3 && w[2] is not ("path" or "cpath")))
                {
                    Error(loc, kw, "'lua-prepend-path' expects a path, optionally followed by 'path' or 'cpath'");
                    return;
                }

                _global = _global with { LuaPrependPaths = _global.LuaPrependPaths.Add(new LuaPrependPath(w[1], w.Count == 3 && w[2] == "cpath")) };
                return;
            case "nbthread":
                if (Int(line, 1, 1, 4096) is { } nb)
                {
                    _global = _global with { NbThread = nb };
                }

                return;
            case "maxconn":
                if (Int(line, 1, 1, int.MaxValue) is { } mc)
                {
                    _global = _global with { MaxConn = mc };
                }

                return;
            case "hard-stop-after":
                if (Time(line, 1) is { } hs)
                {
                    _global = _global with { HardStopAfter = hs };
                }

                return;
            case "daemon":
                NoArgs(line);
                _global = _global with { Daemon = true };
                return;
            case "log":
                if (ParseLog(line, 1) is { } target)
                {
                    _global = _global with { Logs = _global.Logs.Add(target) };
                }

                return;
            case "stats":
                ParseStatsSocket(line);
                return;
            case "admin-api":
                ParseAdminApi(line);
                return;
            case "metrics":
                ParseMetrics(line);
                return;
            case "process-log-format":
                if (w.Count != 2 || w[1] is not ("text" or "json"))
                {
                    Error(loc, kw, "'process-log-format' expects 'text' or 'json'");
                    return;
                }

                _global = _global with { JsonProcessLog = w[1] == "json" };
                return;
            case "httpclient.ssl.verify":
                if (w.Count != 2 || w[1] is not ("none" or "required"))
                {
                    Error(loc, kw, "'httpclient.ssl.verify' expects 'none' or 'required'");
                    return;
                }

                _global = _global with { HttpClientSslVerify = w[1] == "required" };
                return;
        }

        if (kw.StartsWith("tune.lua.", StringComparison.Ordinal))
        {
            ParseTuneLua(line);
            return;
        }

        Error(loc, kw, $"unknown keyword '{kw}' in 'global' section");
    }

    private void ParseTuneLua(ConfigLine line)
    {
        string kw = line.Words[0];
        switch (kw)
        {
            case "tune.lua.session-timeout":
                if (Time(line, 1) is { } st)
                {
                    _global = _global with { LuaSessionTimeout = st };
                }

                break;
            case "tune.lua.task-timeout":
                if (Time(line, 1) is { } tt)
                {
                    _global = _global with { LuaTaskTimeout = tt };
                }

                break;
            case "tune.lua.service-timeout":
                if (Time(line, 1) is { } svt)
                {
                    _global = _global with { LuaServiceTimeout = svt };
                }

                break;
            case "tune.lua.forced-yield":
                if (Int(line, 1, 1, int.MaxValue) is { } fy)
                {
                    _global = _global with { LuaForcedYield = fy };
                }

                break;
            case "tune.lua.maxmem":
                if (Int(line, 1, 0, 1 << 20) is { } mb)
                {
                    _global = _global with { LuaMaxMem = mb * 1024L * 1024L };
                }

                break;
            default:
                Error(line.Location, kw, $"unknown keyword '{kw}' in 'global' section");
                break;
        }
    }

    private void ParseStatsSocket(ConfigLine line)
    {
        var w = line.Words;
        if (w.Count < 2)
        {
            Error(line.Location, "stats", "'stats' expects 'socket <address> [options]'");
            return;
        }

        if (w[1] != "socket")
        {
            Error(line.Location, $"stats {w[1]}", $"unknown keyword 'stats {w[1]}' in 'global' section");
            return;
        }

        if (w.Count < 3)
        {
            Error(line.Location, "stats socket", "'stats socket' expects an address (a unix socket path or ipv4@/ipv6@ address)");
            return;
        }

        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 3; i < w.Count; i++)
        {
            string opt = w[i];
            switch (opt)
            {
                case "mode":
                case "level":
                case "user":
                case "group":
                case "uid":
                case "gid":
                    if (i + 1 >= w.Count)
                    {
                        Error(line.Location, "stats socket", $"'{opt}' expects a value");
                        return;
                    }

                    if (opt == "level" && w[i + 1] is not ("user" or "operator" or "admin"))
                    {
                        Error(line.Location, "stats socket", $"'level' expects 'user', 'operator' or 'admin', not '{w[i + 1]}'");
                        return;
                    }

                    options[opt] = w[++i];
                    break;
                case "expose-fd":
                    if (i + 1 >= w.Count || w[i + 1] != "listeners")
                    {
                        Error(line.Location, "stats socket", "'expose-fd' expects 'listeners'");
                        return;
                    }

                    options[opt] = w[++i];
                    break;
                default:
                    Error(line.Location, "stats socket", $"unsupported option '{opt}'");
                    return;
            }
        }

        _global = _global with { StatsSockets = _global.StatsSockets.Add(new StatsSocketConfig(w[2], options.ToImmutableDictionary(), line.Location)) };
    }

    /// <summary>
    /// The address of <c>admin-api</c> and <c>metrics</c> (<c>[host]:port</c>, the line's first
    /// argument): without a host it is loopback, never every interface. Reports the error itself.
    /// </summary>
    private bool TryParseLocalAddress(ConfigLine line, string kw, out IPEndPoint endpoint)
    {
        endpoint = null!;
        var w = line.Words;
        if (w.Count < 2)
        {
            Error(line.Location, kw, $"'{kw}' expects an address ([host]:port) and options");
            return false;
        }

        string address = w[1];
        if (!ConfigValues.SplitHostPort(address, out string host, out _))
        {
            Error(line.Location, kw, $"invalid address '{address}'");
            return false;
        }

        if (!ConfigValues.TryParseBind(host.Length == 0 ? "127.0.0.1" + address : address, out var parsed, out string? error))
        {
            Error(line.Location, kw, error!);
            return false;
        }

        endpoint = parsed!;
        return true;
    }

    /// <summary>
    /// <c>admin-api ADDR:PORT [token-file F] [token-env VAR] [crt PEM [key PEM]] [ca-file PEM]</c>: the gRPC
    /// admin endpoint. An address without a host (<c>:9400</c>) is loopback, never every interface.
    /// </summary>
    private void ParseAdminApi(ConfigLine line)
    {
        var w = line.Words;
        const string kw = "admin-api";
        if (!TryParseLocalAddress(line, kw, out var endpoint))
        {
            return;
        }

        if (_global.AdminApi is { } previous)
        {
            Error(line.Location, kw, $"'admin-api' is already set at {previous.Location}");
            return;
        }

        if (_global.Metrics is { } metrics && metrics.Endpoint.Equals(endpoint))
        {
            Error(line.Location, kw, $"'admin-api' cannot share the address of 'metrics' ({metrics.Location}): it needs its own port");
            return;
        }

        var config = new AdminApiConfig(endpoint, line.Location);
        for (int i = 2; i < w.Count; i++)
        {
            string opt = w[i];
            if (opt is not ("token-file" or "token-env" or "crt" or "key" or "ca-file"))
            {
                Error(line.Location, kw, $"unknown option '{opt}' (expected token-file, token-env, crt, key or ca-file)");
                return;
            }

            if (i + 1 >= w.Count)
            {
                Error(line.Location, kw, $"'{opt}' expects a value");
                return;
            }

            string v = w[++i];
            config = opt switch
            {
                "token-file" => config with { TokenFile = v },
                "token-env" => config with { TokenEnv = v },
                "crt" => config with { CertificateFile = v },
                "key" => config with { KeyFile = v },
                _ => config with { ClientCaFile = v },
            };
        }

        if (config.TokenFile is not null && config.TokenEnv is not null)
        {
            Error(line.Location, kw, "'token-file' and 'token-env' cannot both be set");
            return;
        }

        if (config.CertificateFile is null && (config.KeyFile is not null || config.ClientCaFile is not null))
        {
            Error(line.Location, kw, "'key' and 'ca-file' need 'crt' (TLS)");
            return;
        }

        _global = _global with { AdminApi = config };
    }

    /// <summary>
    /// <c>metrics ADDR:PORT [path PATH]</c>: the Prometheus scrape endpoint (plaintext HTTP/1.1). As
    /// for <c>admin-api</c>, an address without a host is loopback.
    /// </summary>
    private void ParseMetrics(ConfigLine line)
    {
        var w = line.Words;
        const string kw = "metrics";
        if (!TryParseLocalAddress(line, kw, out var endpoint))
        {
            return;
        }

        if (_global.Metrics is { } previous)
        {
            Error(line.Location, kw, $"'metrics' is already set at {previous.Location}");
            return;
        }

        if (_global.AdminApi is { } admin && admin.Endpoint.Equals(endpoint))
        {
            Error(line.Location, kw, $"'metrics' cannot share the address of 'admin-api' ({admin.Location}): it needs its own port");
            return;
        }

        string path = "/metrics";
        for (int i = 2; i < w.Count; i++)
        {
            if (w[i] != "path")
            {
                Error(line.Location, kw, $"unknown option '{w[i]}' (expected path)");
                return;
            }

            if (i + 1 >= w.Count || !w[i + 1].StartsWith('/'))
            {
                Error(line.Location, kw, "'path' expects an absolute path (/metrics)");
                return;
            }

            path = w[++i];
        }

        _global = _global with { Metrics = new MetricsConfig(endpoint, path, line.Location) };
    }

    /// <summary><c>log stdout|stderr|ADDR [format F] [len N] FACILITY [max-level [min-level]]</c>.</summary>
    private LogTargetConfig? ParseLog(ConfigLine line, int at)
    {
        var w = line.Words;
        string kw = string.Join(' ', w.Take(at));
        if (w.Count <= at)
        {
            Error(line.Location, kw, "'log' expects 'global' or '<target> [format <fmt>] [len <n>] <facility> [<level>]'");
            return null;
        }

        string target = w[at];
        LogTargetKind kind;
        EndPoint? address = null;
        if (target == "stdout")
        {
            kind = LogTargetKind.Stdout;
        }
        else if (target == "stderr")
        {
            kind = LogTargetKind.Stderr;
        }
        else
        {
            string t = target.StartsWith("udp@", StringComparison.Ordinal) ? target[4..] : target;
            if (t.StartsWith('/') || t.Contains('@', StringComparison.Ordinal))
            {
                Error(line.Location, kw, $"unsupported log target '{target}' (stdout, stderr or an IP:port for UDP syslog)");
                return null;
            }

            ConfigValues.SplitHostPort(t, out string host, out string? portText);
            int port = 514;
            if (portText is not null && !ConfigValues.TryParseInt(portText, 1, 65535, out port))
            {
                Error(line.Location, kw, $"invalid port in log target '{target}'");
                return null;
            }

            if (!IPAddress.TryParse(host, out var ip))
            {
                Error(line.Location, kw, $"invalid log target address '{target}'");
                return null;
            }

            kind = LogTargetKind.Udp;
            address = new IPEndPoint(ip, port);
        }

        string format = "rfc3164";
        int maxLength = 1024;
        int i = at + 1;
        while (i < w.Count && w[i] is "format" or "len" or "sample")
        {
            if (i + 1 >= w.Count)
            {
                Error(line.Location, kw, $"'{w[i]}' expects a value");
                return null;
            }

            if (w[i] == "format")
            {
                format = w[i + 1];
                if (format is not ("raw" or "short" or "rfc3164" or "rfc5424" or "local" or "iso" or "timed" or "priority"))
                {
                    Error(line.Location, kw, $"unknown log format '{format}'");
                    return null;
                }
            }
            else if (w[i] == "len" && !ConfigValues.TryParseInt(w[i + 1], 80, 65535, out maxLength))
            {
                Error(line.Location, kw, $"invalid log length '{w[i + 1]}'");
                return null;
            }
            else if (w[i] == "sample")
            {
                Error(line.Location, kw, "'sample' log sampling is not supported");
                return null;
            }

            i += 2;
        }

        if (i >= w.Count)
        {
            Error(line.Location, kw, "missing syslog facility");
            return null;
        }

        string facility = w[i++];
        if (!ProcessLog.IsFacility(facility))
        {
            Error(line.Location, kw, $"unknown syslog facility '{facility}'");
            return null;
        }

        string? maxLevel = null;
        if (i < w.Count)
        {
            maxLevel = w[i++];
            if (LogLevels.Parse(maxLevel) < 0)
            {
                Error(line.Location, kw, $"unknown log level '{maxLevel}'");
                return null;
            }
        }

        string? minLevel = null;
        if (i < w.Count)
        {
            minLevel = w[i];
            if (LogLevels.Parse(minLevel) < 0)
            {
                Error(line.Location, kw, $"unknown log level '{minLevel}'");
                return null;
            }

            i++;
        }

        if (i < w.Count)
        {
            Error(line.Location, kw, $"unexpected argument '{w[i]}'");
            return null;
        }

        return new LogTargetConfig(kind, format, facility, maxLevel, address, line.Location, maxLength, minLevel);
    }

    private int? Int(ConfigLine line, int at, int min, int max)
    {
        var w = line.Words;
        if (w.Count != at + 1)
        {
            Error(line.Location, string.Join(' ', w.Take(at)), w.Count <= at ? "expects an integer argument" : $"unexpected argument '{w[at + 1]}'");
            return null;
        }

        if (!ConfigValues.TryParseInt(w[at], min, max, out int v))
        {
            Error(line.Location, string.Join(' ', w.Take(at)), $"invalid value '{w[at]}' (expected an integer between {min} and {max})");
            return null;
        }

        return v;
    }

    private TimeSpan? Time(ConfigLine line, int at)
    {
        var w = line.Words;
        if (w.Count != at + 1)
        {
            Error(line.Location, string.Join(' ', w.Take(at)), w.Count <= at ? "expects a time argument" : $"unexpected argument '{w[at + 1]}'");
            return null;
        }

        if (!ConfigValues.TryParseTime(w[at], out var t))
        {
            Error(line.Location, string.Join(' ', w.Take(at)), $"invalid time '{w[at]}' (expected a number with an optional unit: us, ms, s, m, h, d)");
            return null;
        }

        return t;
    }

    private void NoArgs(ConfigLine line)
    {
        if (line.Words.Count > 1)
        {
            Error(line.Location, line.Words[0], $"'{line.Words[0]}' takes no argument");
        }
    }
}
