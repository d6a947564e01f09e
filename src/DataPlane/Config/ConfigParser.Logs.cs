using HaLua.DataPlane.Logging;

namespace HaLua.DataPlane.Config;

/// <summary>Access logs in proxies: <c>log</c>, <c>no log</c>, <c>log-format</c>, <c>option httplog|tcplog|dontlognull</c>.</summary>
internal sealed partial class ConfigParser
{
    /// <summary><c>log global</c>, <c>log TARGET ...</c> (and HaLua's <c>log disabled</c>, the same as <c>no log</c>).</summary>
    private void ParseProxyLog(ConfigLine line, ProxyBuilder px)
    {
        var w = line.Words;
        if (w.Count == 2 && w[1] == "global")
        {
            px.LogGlobal = true;
        }
        else if (w.Count == 2 && w[1] == "disabled")
        {
            ClearLogs(px);
        }
        else if (ParseLog(line, 1) is { } target)
        {
            px.Logs.Add(target);
        }
    }

    /// <summary><c>no log</c>: forget the targets inherited or declared so far.</summary>
    private void ParseNoLog(ConfigLine line, ProxyBuilder px)
    {
        var kwLine = line with { Words = ["no log", .. line.Words.Skip(2)] };
        if (!Allowed(kwLine, px, Where.All))
        {
            return;
        }

        if (line.Words.Count > 2)
        {
            Error(line.Location, "no log", "'no log' does not expect arguments");
            return;
        }

        ClearLogs(px);
    }

    private static void ClearLogs(ProxyBuilder px)
    {
        px.LogGlobal = false;
        px.Logs.Clear();
    }

    private void ParseLogFormat(ConfigLine line, ProxyBuilder px)
    {
        if (!Args(line, 1))
        {
            return;
        }

        if (px.Capabilities == ProxyCapabilities.Backend)
        {
            _warnings.Add($"{line.Location} : backend '{px.Name}' : 'log-format' directive is ignored in backends.");
            return;
        }

        px.LogFormat = new LogFormatConfig(line.Words[1], "log-format", line.Location);
    }

    /// <summary><c>option httplog [clf]</c>, <c>option tcplog</c>, <c>[no] option dontlognull</c>.</summary>
    private void ParseLogOption(ConfigLine optLine, ProxyBuilder px, string name, bool negate)
    {
        string kw = optLine.Words[0];
        var args = optLine.Words.Skip(1).ToList();
        if (!Allowed(optLine, px, Where.All))
        {
            return;
        }

        if (name == "dontlognull")
        {
            if (args.Count > 0)
            {
                Error(optLine.Location, kw, $"unexpected argument '{args[0]}'");
                return;
            }

            px.DontLogNull = !negate;
            return;
        }

        if (negate)
        {
            Error(optLine.Location, kw, $"negation is not supported for option '{name}'");
            return;
        }

        bool clf = name == "httplog" && args is ["clf"];
        if (args.Count > (clf ? 1 : 0))
        {
            Error(optLine.Location, kw, $"unexpected argument '{args[clf ? 1 : 0]}'");
            return;
        }

        if (px.Capabilities == ProxyCapabilities.Backend)
        {
            _warnings.Add($"{optLine.Location} : 'option {name}' ignored in backend '{px.Name}' (logs belong to frontends).");
            return;
        }

        string format = name == "tcplog" ? LogFormat.TcpLog : clf ? LogFormat.ClfLog : LogFormat.HttpLog;
        px.LogFormat = new LogFormatConfig(format, kw, optLine.Location);
    }

    /// <summary>
    /// HAProxy's checks once the proxy is complete: <c>option httplog</c> in a TCP frontend falls
    /// back to <c>option tcplog</c>; a format without any log target is ignored. Both are warnings.
    /// </summary>
    private void ValidateLogs(ProxyBuilder px)
    {
        if (px.LogFormat is not { } lf || !px.Capabilities.HasFlag(ProxyCapabilities.Frontend))
        {
            return;
        }

        if (px.Mode == ProxyMode.Tcp && lf.Keyword == "option httplog")
        {
            _warnings.Add($"{lf.Location} : 'option httplog' not usable with {SectionKind(px)} '{px.Name}' (needs 'mode http'). Falling back to 'option tcplog'.");
            px.LogFormat = lf with { Format = LogFormat.TcpLog, Keyword = "option tcplog" };
        }

        if (px.Logs.Count == 0 && !(px.LogGlobal && _global.Logs.Length > 0))
        {
            _warnings.Add($"{lf.Location} : log format ignored for {SectionKind(px)} '{px.Name}' since it has no log address.");
        }
    }

    /// <summary>The argument of <c>set-log-level</c>: one level name, or <c>silent</c>.</summary>
    private bool IsLogLevelRule(ConfigLine line, string kw, IReadOnlyList<string> args)
    {
        if (args.Count == 1 && (args[0] == "silent" || Logging.LogLevels.Parse(args[0]) >= 0))
        {
            return true;
        }

        Error(line.Location, kw, "expects exactly 1 argument (log level name or 'silent')");
        return false;
    }
}
