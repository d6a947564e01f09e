using HaLua.DataPlane.Config;
using HaLua.DataPlane.Logging;

namespace HaLua.DataPlane.Tests.Config;

/// <summary>log, no log, log-format, option httplog/tcplog/dontlognull and set-log-level in proxies.</summary>
public sealed class LogConfigTests
{
    private static ConfigParser.Result Parse(string text) => ConfigParser.Parse(text, "log.cfg", _ => null);

    private static ProxyConfig Proxy(ConfigParser.Result result, string name)
    {
        Assert.Empty(result.Errors.Select(e => e.ToString()));
        return Assert.Single(result.Config!.Proxies, p => p.Name == name);
    }

    [Fact]
    public void Defaults_LogLinesAndFormat_AreInherited_NoLogForgetsThem()
    {
        var result = Parse("""
            global
                log 127.0.0.1:514 local0
            defaults
                mode http
                log global
                log stdout format raw local1
                option httplog
                option dontlognull
            frontend fe
                bind :8080
            frontend quiet
                bind :8081
                no log
                no option dontlognull
            """);

        var fe = Proxy(result, "fe");
        Assert.True(fe.LogGlobal);
        Assert.Equal(LogTargetKind.Stdout, Assert.Single(fe.Logs).Kind);
        Assert.Equal(LogFormat.HttpLog, fe.LogFormat!.Format);
        Assert.Equal("option httplog", fe.LogFormat.Keyword);
        Assert.True(fe.DontLogNull);

        var quiet = Proxy(result, "quiet");
        Assert.False(quiet.LogGlobal);
        Assert.Empty(quiet.Logs);
        Assert.False(quiet.DontLogNull);
        Assert.Contains(result.Warnings, w => w.Contains("log format ignored for frontend 'quiet'", StringComparison.Ordinal));
    }

    [Fact]
    public void LastFormatLineWins_ClfAndTcplogAndLogFormat()
    {
        var result = Parse("""
            frontend a
                log stdout local0
                option tcplog
                log-format "%ci %ST"
            frontend b
                mode http
                log stdout local0
                log-format "%ci"
                option httplog clf
            """);

        Assert.Equal(("%ci %ST", "log-format"), (Proxy(result, "a").LogFormat!.Format, Proxy(result, "a").LogFormat!.Keyword));
        Assert.Equal(LogFormat.ClfLog, Proxy(result, "b").LogFormat!.Format);
    }

    [Fact]
    public void HttplogInTcpFrontend_FallsBackToTcplog_WithAWarning()
    {
        var result = Parse("""
            frontend t
                mode tcp
                log stdout local0
                option httplog
            """);

        Assert.Equal(LogFormat.TcpLog, Proxy(result, "t").LogFormat!.Format);
        Assert.Contains(result.Warnings, w => w.Contains("log.cfg:4", StringComparison.Ordinal) && w.Contains("Falling back to 'option tcplog'", StringComparison.Ordinal));
    }

    [Fact]
    public void LogFormatInBackend_IsIgnoredWithAWarning()
    {
        var result = Parse("""
            backend be
                log-format "%ci"
                server s 127.0.0.1:80
            """);

        Assert.Null(Proxy(result, "be").LogFormat);
        Assert.Contains(result.Warnings, w => w.Contains("'log-format' directive is ignored in backends", StringComparison.Ordinal));
    }

    [Fact]
    public void SetLogLevel_InTcpAndHttpRules_IsParsed()
    {
        var result = Parse("""
            frontend t
                tcp-request content set-log-level silent if { src 10.0.0.0/8 }
            frontend h
                mode http
                http-request set-log-level err
                http-response set-log-level debug
            """);

        Assert.Equal(["silent"], Assert.Single(Proxy(result, "t").TcpRequestContent).Args.AsEnumerable());
        var h = Proxy(result, "h");
        Assert.Equal((HttpRuleKind.SetLogLevel, "err"), (h.HttpRequestRules[0].Kind, h.HttpRequestRules[0].Name));
        Assert.Equal("debug", h.HttpResponseRules[0].Name);
    }
}
