namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>The halua command line: -v, --help, -c and the errors of bad configurations.</summary>
public class CommandLineTests
{
    [Fact]
    public async Task Version_PrintsVersionExitsZero()
    {
        var (code, stdout, _) = await HaluaProcess.RunToEndAsync(AppContext.BaseDirectory, "-v");
        Assert.Equal(0, code);
        Assert.Contains("HaLua version", stdout);
    }

    [Fact]
    public async Task Help_PrintsUsage()
    {
        var (code, stdout, _) = await HaluaProcess.RunToEndAsync(AppContext.BaseDirectory, "--help");
        Assert.Equal(0, code);
        Assert.Contains("-f FILE", stdout);
    }

    [Fact]
    public async Task Check_ValidConfig_ExitsZero()
    {
        var (dir, cfg, _) = HaluaProcess.Prepare("""
            global
               lua-load svc.lua
            listen px
               bind 127.0.0.1:{PORT0}
               tcp-request content use-service lua.s
            """, new Dictionary<string, string> { ["svc.lua"] = "core.register_service('s', 'tcp', function(a) end)" });
        var (code, stdout, stderr) = await HaluaProcess.RunToEndAsync(dir, "-c", "-f", cfg);
        Assert.True(code == 0, stderr);
        Assert.Contains("Configuration file is valid", stdout);
    }

    [Fact]
    public async Task UnknownKeyword_ExitsNonZeroNamingFileLineAndKeyword()
    {
        var (dir, cfg, _) = HaluaProcess.Prepare("""
            global
               maxconn 100
            frontend fe
               bind 127.0.0.1:{PORT0}
               frobnicate yes
            """);
        var (code, _, stderr) = await HaluaProcess.RunToEndAsync(dir, "-f", cfg);
        Assert.NotEqual(0, code);
        Assert.Contains("haproxy.cfg:5", stderr);
        Assert.Contains("frobnicate", stderr);
        Assert.Contains("frontend fe", stderr);
    }

    [Fact]
    public async Task BadServerAddress_ExitsNonZeroNamingFileLine()
    {
        var (dir, cfg, _) = HaluaProcess.Prepare("""
            listen px
               bind 127.0.0.1:{PORT0}
               server s1 300.1.2.3.4:80
            """);
        var (code, _, stderr) = await HaluaProcess.RunToEndAsync(dir, "-f", cfg);
        Assert.NotEqual(0, code);
        Assert.Contains("haproxy.cfg:3", stderr);
        Assert.Contains("'server'", stderr);
    }

    [Fact]
    public async Task LuaSyntaxError_ExitsNonZeroNamingLuaFileLine()
    {
        var (dir, cfg, _) = HaluaProcess.Prepare("""
            global
               lua-load broken.lua
            listen px
               bind 127.0.0.1:{PORT0}
            """, new Dictionary<string, string> { ["broken.lua"] = "local a = 1\nlocal b = = 2\n" });
        var (code, _, stderr) = await HaluaProcess.RunToEndAsync(dir, "-f", cfg);
        Assert.NotEqual(0, code);
        Assert.Contains("haproxy.cfg:2", stderr);
        Assert.Contains("broken.lua:2:", stderr);
    }

    [Fact]
    public async Task CheckMode_ListsAllErrorsInOneRun()
    {
        var (dir, cfg, _) = HaluaProcess.Prepare("""
            global
               nbthread lots
            frontend fe
               bind 127.0.0.1:{PORT0}
               frobnicate yes
               default_backend missing
            backend be
               server s1 nowhere..bad:80
               balance fastest
            """);
        var (code, _, stderr) = await HaluaProcess.RunToEndAsync(dir, "-c", "-f", cfg);
        Assert.Equal(1, code);
        Assert.Contains("haproxy.cfg:2", stderr);
        Assert.Contains("haproxy.cfg:5", stderr);
        Assert.Contains("haproxy.cfg:6", stderr);
        Assert.Contains("haproxy.cfg:8", stderr);
        Assert.Contains("haproxy.cfg:9", stderr);
        Assert.Contains("Fatal errors found in configuration (5)", stderr);
    }

    [Fact]
    public async Task CheckMode_ReportsLuaErrorsAlongsideConfigErrors()
    {
        var (dir, cfg, _) = HaluaProcess.Prepare("""
            global
               lua-load broken.lua
            listen px
               bind 127.0.0.1:{PORT0}
               frobnicate yes
            """, new Dictionary<string, string> { ["broken.lua"] = "local x = \n  ))\n" });
        var (code, _, stderr) = await HaluaProcess.RunToEndAsync(dir, "-c", "-f", cfg);
        Assert.Equal(1, code);
        Assert.Contains("haproxy.cfg:5", stderr);
        Assert.Contains("frobnicate", stderr);
        Assert.Contains("broken.lua:2", stderr);
        Assert.Contains("Fatal errors found in configuration (2)", stderr);
    }

    [Fact]
    public async Task MissingLuaService_IsConfigErrorNamingRuleLine()
    {
        var (dir, cfg, _) = HaluaProcess.Prepare("""
            global
               lua-load svc.lua
            listen px
               bind 127.0.0.1:{PORT0}
               tcp-request content use-service lua.nope
               tcp-request content lua.act one two
            """, new Dictionary<string, string> { ["svc.lua"] = "core.register_action('act', {'tcp-req'}, function(txn, a) end, 1)" });
        var (code, _, stderr) = await HaluaProcess.RunToEndAsync(dir, "-c", "-f", cfg);
        Assert.Equal(1, code);
        Assert.Contains("haproxy.cfg:5", stderr);
        Assert.Contains("lua.nope", stderr);
        Assert.Contains("haproxy.cfg:6", stderr);
        Assert.Contains("expects 1 argument(s), got 2", stderr);
    }

    [Fact]
    public void RuntimeConfig_PromotesHotMethodsWithoutTheStartupDelay()
    {
        // Without it, a halua limited to one CPU kept its hot paths in unoptimized code for tens of
        // seconds under load (bench/README.md, "Control plane ... the goals are met").
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(HaluaProcess.HaluaPath + ".runtimeconfig.json"));
        var properties = json.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties");
        Assert.Equal(0, properties.GetProperty("System.Runtime.TieredCompilation.CallCountingDelayMs").GetInt32());
    }
}
