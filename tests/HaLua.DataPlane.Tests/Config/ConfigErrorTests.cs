using HaLua.DataPlane.Config;

namespace HaLua.DataPlane.Tests.Config;

public sealed class ConfigErrorTests
{
    private static IReadOnlyList<ConfigError> Errors(string text)
    {
        var result = ConfigParser.Parse(text, "bad.cfg", _ => null);
        Assert.Null(result.Config);
        Assert.NotEmpty(result.Errors);
        return result.Errors;
    }

    private static ConfigError SingleError(string text) => Assert.Single(Errors(text));

    private static void AssertError(ConfigError error, int line, string section, string keyword, string messagePart)
    {
        Assert.Equal(new SourceLocation("bad.cfg", line), error.Location);
        Assert.Equal(section, error.Section);
        Assert.Equal(keyword, error.Keyword);
        Assert.Contains(messagePart, error.Message, StringComparison.Ordinal);

        // The printed form names all of it, as halua -c shows it.
        string printed = error.ToString();
        Assert.Contains($"bad.cfg:{line}", printed, StringComparison.Ordinal);
        Assert.Contains($"'{keyword}'", printed, StringComparison.Ordinal);
        Assert.Contains($"'{section}'", printed, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownKeywordInBackend_NamesFileLineSectionKeyword()
    {
        var e = SingleError("""
            backend be
                server s1 127.0.0.1:80
                frobnicate yes
            """);
        AssertError(e, 3, "backend be", "frobnicate", "unknown keyword 'frobnicate' in 'backend' section");
    }

    [Fact]
    public void Parse_UnknownKeywordInGlobal_IsReported()
    {
        var e = SingleError("global\n    nbthreads 4\n");
        AssertError(e, 2, "global", "nbthreads", "unknown keyword 'nbthreads' in 'global' section");
    }

    [Fact]
    public void Parse_KeywordBeforeAnySection_IsReported()
    {
        var e = SingleError("\n# comment\nbind :80\n");
        Assert.Equal(new SourceLocation("bad.cfg", 3), e.Location);
        Assert.Equal("bind", e.Keyword);
        Assert.Contains("out of section", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_UnknownOption_NamesTheOption()
    {
        var e = SingleError("backend be\n    option nosuchthing\n");
        AssertError(e, 2, "backend be", "option nosuchthing", "unknown option 'nosuchthing'");
    }

    [Fact]
    public void Parse_NotYetSupportedKeyword_IsAnErrorNotIgnored()
    {
        var e = SingleError("frontend fe\n    bind :80\n    http-after-response set-header X 1\n");
        AssertError(e, 3, "frontend fe", "http-after-response", "not supported yet");
    }

    [Fact]
    public void Parse_UnsupportedSection_IsReportedAndItsLinesSkipped()
    {
        var e = SingleError("userlist admins\n    user bob password x\n");
        AssertError(e, 1, "userlist", "userlist", "section 'userlist' is not supported");
    }

    [Theory]
    [InlineData("frontend fe", "server s1 127.0.0.1:80", "server", "frontend fe", "'server' is not allowed in a 'frontend' section")]
    [InlineData("backend be", "bind :80", "bind", "backend be", "'bind' is not allowed in a 'backend' section")]
    [InlineData("backend be", "use_backend other", "use_backend", "backend be", "not allowed in a 'backend' section")]
    [InlineData("frontend fe", "balance roundrobin", "balance", "frontend fe", "not allowed in a 'frontend' section")]
    [InlineData("frontend fe", "timeout server 5s", "timeout server", "frontend fe", "not allowed in a 'frontend' section")]
    [InlineData("backend be", "timeout client 5s", "timeout client", "backend be", "not allowed in a 'backend' section")]
    [InlineData("defaults", "server s1 127.0.0.1:80", "server", "defaults", "not allowed in a 'defaults' section")]
    [InlineData("defaults", "acl a always_true", "acl", "defaults", "not allowed in a 'defaults' section")]
    [InlineData("frontend fe", "tcp-response content accept", "tcp-response", "frontend fe", "not allowed in a 'frontend' section")]
    public void Parse_KeywordInWrongSection_IsReported(string section, string line, string keyword, string sectionName, string message)
    {
        var errors = Errors($"{section}\n    {line}\n");
        AssertError(Assert.Single(errors), 2, sectionName, keyword, message);
    }

    [Theory]
    [InlineData("127.0.0.1", "missing port in '127.0.0.1'")]
    [InlineData("127.0.0.1:0", "invalid port '0'")]
    [InlineData("127.0.0.1:99999", "invalid port '99999'")]
    [InlineData("127.0.0.1:http", "invalid port 'http'")]
    [InlineData(":80", "invalid address ':80'")]
    [InlineData("bad_host!:80", "invalid address 'bad_host!'")]
    [InlineData("/var/run/app.sock", "unsupported server address '/var/run/app.sock'")]
    [InlineData("unix@/x.sock", "unsupported server address")]
    [InlineData("[::1:80", "invalid address '[::1:80'")]
    public void Parse_BadServerAddress_IsReported(string address, string message)
    {
        var e = SingleError($"backend be\n    server s1 {address}\n");
        AssertError(e, 2, "backend be", "server", message);
    }

    [Theory]
    [InlineData("weight 257")]
    [InlineData("weight -1")]
    [InlineData("weight heavy")]
    [InlineData("weight 1.5")]
    public void Parse_BadWeight_IsReported(string option)
    {
        var e = SingleError($"backend be\n    server s1 127.0.0.1:80 {option}\n");
        AssertError(e, 2, "backend be", "server", $"invalid weight '{option[7..]}' (expected 0 to 256)");
    }

    [Theory]
    [InlineData("weight", "'weight' expects an argument")]
    [InlineData("inter 0", "invalid 'inter' time '0'")]
    [InlineData("inter 2x", "invalid 'inter' time '2x'")]
    [InlineData("rise 0", "invalid 'rise' value '0'")]
    [InlineData("fall many", "invalid 'fall' value 'many'")]
    [InlineData("maxconn -2", "invalid 'maxconn' value '-2'")]
    [InlineData("ssl", "unsupported server option 'ssl'")]
    public void Parse_BadServerOption_IsReported(string options, string message)
    {
        var e = SingleError($"backend be\n    server s1 127.0.0.1:80 {options}\n");
        AssertError(e, 2, "backend be", "server", message);
    }

    [Fact]
    public void Parse_DuplicateServerName_IsReported()
    {
        var e = SingleError("backend be\n    server s1 127.0.0.1:80\n    server s1 127.0.0.1:81\n");
        AssertError(e, 3, "backend be", "server", "server 's1' already declared");
    }

    [Theory]
    [InlineData("timeout connect 10x", "timeout connect", "invalid time '10x'")]
    [InlineData("timeout connect", "timeout connect", "expects a time argument")]
    [InlineData("timeout connect 1s 2s", "timeout connect", "unexpected argument '2s'")]
    [InlineData("timeout forever 1s", "timeout forever", "unknown timeout 'forever'")]
    [InlineData("retries many", "retries", "invalid value 'many'")]
    [InlineData("balance random", "balance", "unsupported balance algorithm 'random'")]
    [InlineData("mode udp", "mode", "unknown proxy mode 'udp'")]
    public void Parse_BadValue_NamesKeyword(string line, string keyword, string message)
    {
        var e = SingleError($"backend be\n    {line}\n");
        AssertError(e, 2, "backend be", keyword, message);
    }

    [Fact]
    public void Parse_MissingDefaultBackend_NamesTheDefaultBackendLine()
    {
        var e = SingleError("""
            frontend fe
                bind :8000
                default_backend nosuch

            backend other
                server s1 127.0.0.1:80
            """);
        AssertError(e, 3, "frontend fe", "default_backend", "unable to find required default_backend backend 'nosuch'");
    }

    [Fact]
    public void Parse_UseBackendToUnknownBackend_IsReported()
    {
        var e = SingleError("""
            frontend fe
                bind :8000
                use_backend ghost if TRUE
            """);
        AssertError(e, 3, "frontend fe", "use_backend", "'ghost'");
    }

    [Fact]
    public void Parse_DefaultBackendIsAFrontend_IsReported()
    {
        var e = SingleError("""
            frontend fe
                bind :8000
                default_backend fe2
            frontend fe2
                bind :8001
            """);
        AssertError(e, 3, "frontend fe", "default_backend", "'fe2'");
    }

    [Fact]
    public void Parse_BackendOfOtherMode_IsReported()
    {
        var e = SingleError("""
            frontend fe
                bind :8000
                default_backend web
            backend web
                mode http
                server s1 127.0.0.1:80
            """);
        AssertError(e, 3, "frontend fe", "default_backend", "cannot use backend 'web'");
    }

    [Fact]
    public void Parse_UseBackendOnUnknownAcl_IsReported()
    {
        var e = SingleError("""
            frontend fe
                bind :8000
                acl known always_true
                use_backend be if known is_api
            backend be
                server s1 127.0.0.1:80
            """);
        AssertError(e, 4, "frontend fe", "use_backend", "no such ACL : 'is_api'");
    }

    [Fact]
    public void Parse_AclDeclaredInAnotherProxy_IsUnknownHere()
    {
        var e = SingleError("""
            frontend fe
                bind :8000
                use_backend be if elsewhere
            backend be
                acl elsewhere always_true
                server s1 127.0.0.1:80
            """);
        AssertError(e, 3, "frontend fe", "use_backend", "no such ACL : 'elsewhere'");
    }

    [Theory]
    [InlineData("use_backend be if", "missing condition after 'if'")]
    [InlineData("use_backend be if TRUE ||", "condition ends with '||'")]
    [InlineData("use_backend be if || TRUE", "'||' without a condition before it")]
    [InlineData("use_backend be if !", "'!' at the end of the condition")]
    [InlineData("use_backend be if { src 1.2.3.4", "missing '}'")]
    [InlineData("use_backend be if {src 1.2.3.4}", "need spaces around the braces")]
    [InlineData("use_backend be when TRUE", "unexpected argument 'when'")]
    public void Parse_MalformedCondition_IsReported(string line, string message)
    {
        var e = SingleError($"frontend fe\n    bind :8000\n    {line}\nbackend be\n");
        AssertError(e, 3, "frontend fe", "use_backend", message);
    }

    [Fact]
    public void Parse_DuplicateProxyName_NamesTheFirstDeclaration()
    {
        var e = SingleError("backend be\nbackend be\n");
        AssertError(e, 2, "backend be", "backend", "declared at bad.cfg:1");
    }

    [Fact]
    public void Parse_UnmatchedQuote_NamesTheLine()
    {
        var e = SingleError("backend be\n    server s1 \"127.0.0.1:80\n");
        Assert.Equal(new SourceLocation("bad.cfg", 2), e.Location);
        Assert.Contains("unmatched double quote", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SeveralErrors_AreAllReportedInOneParse()
    {
        var errors = Errors("""
            global
                nbthread zero

            frontend fe
                bind :8000
                server s1 127.0.0.1:80
                use_backend be if missing_acl
                default_backend nowhere

            backend be
                frobnicate
                server s1 127.0.0.1 weight 1
                server s2 127.0.0.1:81 weight 1000
                timeout connect 5y
            """);

        Assert.Equal(
            [(2, "nbthread"), (6, "server"), (7, "use_backend"), (8, "default_backend"), (11, "frobnicate"), (12, "server"), (13, "server"), (14, "timeout connect")],
            errors.Select(e => (e.Location.Line, e.Keyword)).OrderBy(x => x.Line));
        Assert.All(errors, e => Assert.Equal("bad.cfg", e.Location.File));
        Assert.Contains("missing port", errors.Single(e => e.Location.Line == 12).Message, StringComparison.Ordinal);
        Assert.Contains("invalid weight '1000'", errors.Single(e => e.Location.Line == 13).Message, StringComparison.Ordinal);
        Assert.Contains("no such ACL : 'missing_acl'", errors.Single(e => e.Location.Line == 7).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseFiles_ErrorsInSeveralFiles_NameEachFile()
    {
        string dir = Directory.CreateTempSubdirectory("halua-cfg-").FullName;
        try
        {
            string first = Path.Combine(dir, "one.cfg");
            string second = Path.Combine(dir, "two.cfg");
            string missing = Path.Combine(dir, "missing.cfg");
            File.WriteAllText(first, "global\n    bogus 1\n");
            File.WriteAllText(second, "backend be\n\n    server s1 nohost\n");

            var result = ConfigParser.ParseFiles([first, missing, second], _ => null);

            Assert.Null(result.Config);
            Assert.Equal(3, result.Errors.Count);
            Assert.Equal(new SourceLocation(first, 2), result.Errors[0].Location);
            Assert.Equal("bogus", result.Errors[0].Keyword);
            Assert.Equal(missing, result.Errors[1].Location.File);
            Assert.Contains("cannot open configuration file", result.Errors[1].Message, StringComparison.Ordinal);
            Assert.Equal(new SourceLocation(second, 3), result.Errors[2].Location);
            Assert.Equal("server", result.Errors[2].Keyword);
            Assert.Contains("missing port", result.Errors[2].Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("http-request set-log-level loud", "http-request set-log-level", "expects exactly 1 argument (log level name or 'silent')")]
    [InlineData("tcp-request content set-log-level", "tcp-request content set-log-level", "expects exactly 1 argument")]
    [InlineData("no option httplog", "option httplog", "negation is not supported")]
    [InlineData("option tcplog now", "option tcplog", "unexpected argument 'now'")]
    [InlineData("log-format a b", "log-format", "unexpected argument 'b'")]
    [InlineData("no log global", "no log", "does not expect arguments")]
    [InlineData("option logasap", "option logasap", "not supported yet")]
    public void Parse_BadLogLine_NamesKeyword(string line, string keyword, string message)
        => AssertError(SingleError($"frontend fe\n    mode http\n    {line}\n"), 3, "frontend fe", keyword, message);
}
