using HaLua.DataPlane.Tests.EndToEnd;

namespace HaLua.DataPlane.Tests.Config;

/// <summary>The <c>metrics</c> and <c>process-log-format</c> keywords: every mistake is a config error naming file:line and the keyword.</summary>
public class MetricsConfigTests
{
    [Theory]
    [InlineData("metrics", "metrics", "expects an address")]
    [InlineData("metrics 127.0.0.1", "metrics", "missing port")]
    [InlineData("metrics 127.0.0.1:9401 pth /m", "metrics", "unknown option 'pth'")]
    [InlineData("metrics 127.0.0.1:9401 path", "metrics", "'path' expects an absolute path")]
    [InlineData("metrics 127.0.0.1:9401 path metrics", "metrics", "'path' expects an absolute path")]
    [InlineData("metrics host.example:9401", "metrics", "invalid address")]
    [InlineData("process-log-format xml", "process-log-format", "expects 'text' or 'json'")]
    [InlineData("process-log-format", "process-log-format", "expects 'text' or 'json'")]
    public async Task BadKeyword_IsConfigErrorNamingLine(string line, string keyword, string message)
    {
        var (code, _, stderr) = await HaluaProcess.CheckAsync($"global\n   {line}\n");
        Assert.Equal(1, code);
        Assert.Contains("haproxy.cfg:2", stderr);
        Assert.Contains(keyword, stderr);
        Assert.Contains(message, stderr);
    }

    [Fact]
    public async Task Metrics_TwiceOrOnTheAdminApiAddress_IsConfigError()
    {
        var (code, _, stderr) = await HaluaProcess.CheckAsync("global\n   metrics :9401\n   metrics :9402\n");
        Assert.Equal(1, code);
        Assert.Contains("haproxy.cfg:3", stderr);
        Assert.Contains("already set", stderr);

        (code, _, stderr) = await HaluaProcess.CheckAsync("global\n   admin-api :9401\n   metrics 127.0.0.1:9401\n");
        Assert.Equal(1, code);
        Assert.Contains("haproxy.cfg:3", stderr);
        Assert.Contains("cannot share the address of 'admin-api'", stderr);
    }

    [Fact]
    public async Task MetricsAndJsonLog_Valid_CheckPasses()
    {
        var (code, stdout, stderr) = await HaluaProcess.CheckAsync("global\n   metrics :9401 path /prom\n   process-log-format json\n   admin-api :9400\n");
        Assert.True(code == 0, stderr);
        Assert.Contains("Configuration file is valid", stdout);
    }

    [Fact]
    public async Task Metrics_PortTaken_StopsTheStartNamingTheLine()
    {
        using var taken = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        taken.Start();
        int port = ((System.Net.IPEndPoint)taken.LocalEndpoint).Port;
        var (dir, cfg, _) = HaluaProcess.Prepare($"global\n   metrics 127.0.0.1:{port}\nfrontend fe\n   mode tcp\n   bind 127.0.0.1:{{PORT0}}\n   timeout client 1s\n   tcp-request content reject\n");
        var (code, _, stderr) = await HaluaProcess.RunToEndAsync(dir, "-f", cfg);
        Assert.Equal(1, code);
        Assert.Contains("haproxy.cfg:2: 'metrics' on 127.0.0.1:" + port, stderr);
    }
}
