using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using HaLua.DataPlane.Tests.EndToEnd;

namespace HaLua.DataPlane.Tests.Stats;

/// <summary>
/// A real Prometheus server (Debian's) on 127.0.0.1 with its own temp data directory, scraping one
/// target every second; answers PromQL queries through its HTTP API.
/// </summary>
internal sealed class PrometheusServer : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private readonly Process _process;
    private readonly string _dir;
    private readonly Task<string> _stderr;

    private PrometheusServer(Process process, string dir, int port, Task<string> stderr)
    {
        _process = process;
        _dir = dir;
        Port = port;
        _stderr = stderr;
    }

    public int Port { get; }

    public static async Task<PrometheusServer> StartAsync(string target, string metricsPath = "/metrics")
    {
        var dir = Directory.CreateTempSubdirectory("halua-prometheus-").FullName;
        int port = HaluaProcess.FreePort();
        File.WriteAllText(Path.Combine(dir, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
              scrape_timeout: 1s
              evaluation_interval: 1s
            scrape_configs:
              - job_name: halua
                metrics_path: {metricsPath}
                static_configs:
                  - targets: ['{target}']
            """);
        var psi = new ProcessStartInfo(PrometheusTools.Server) { WorkingDirectory = dir, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in (string[])[$"--config.file={dir}/prometheus.yml", $"--storage.tsdb.path={dir}/data", $"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"])
        {
            psi.ArgumentList.Add(arg);
        }

        var p = Process.Start(psi)!;
        _ = p.StandardOutput.ReadToEndAsync();
        var server = new PrometheusServer(p, dir, port, p.StandardError.ReadToEndAsync());
        var sw = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if ((await Http.GetAsync($"http://127.0.0.1:{port}/-/ready")).IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException) when (!p.HasExited)
            {
            }

            if (p.HasExited || sw.Elapsed > TimeSpan.FromSeconds(30))
            {
                await server.DisposeAsync();
                throw new InvalidOperationException("prometheus did not start: " + (p.HasExited ? await server._stderr : "timeout"));
            }

            await Task.Delay(100);
        }
    }

    /// <summary>An instant query: each result's labels (as JSON) and value.</summary>
    public async Task<List<(string Labels, double Value)>> QueryAsync(string promql)
    {
        using var response = await Http.GetAsync($"http://127.0.0.1:{Port}/api/v1/query?query={Uri.EscapeDataString(promql)}");
        string body = await response.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;
        Assert.True(root.GetProperty("status").GetString() == "success", $"query '{promql}': {body}");
        var data = root.GetProperty("data");
        var results = new List<(string, double)>();
        if (data.GetProperty("resultType").GetString() == "scalar")
        {
            results.Add(("", Number(data.GetProperty("result")[1])));
            return results;
        }

        foreach (var r in data.GetProperty("result").EnumerateArray())
        {
            results.Add((r.GetProperty("metric").GetRawText(), Number(r.GetProperty("value")[1])));
        }

        return results;
    }

    /// <summary>Queries until the single result's value satisfies <paramref name="done"/> (scrapes come every second), or fails.</summary>
    public async Task<double> WaitForAsync(string promql, Func<double, bool> done, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        List<(string Labels, double Value)> last = [];
        while (DateTime.UtcNow < deadline)
        {
            last = await QueryAsync(promql);
            if (last.Count == 1 && done(last[0].Value))
            {
                return last[0].Value;
            }

            await Task.Delay(200);
        }

        Assert.Fail($"'{promql}' never got there in {timeout}: last result {string.Join("; ", last.Select(r => $"{r.Labels} {r.Value}"))}");
        return double.NaN;
    }

    private static double Number(JsonElement e) => double.Parse(e.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture);

    public ValueTask DisposeAsync() => HaluaProcess.KillAndDeleteAsync(_process, _dir);
}
