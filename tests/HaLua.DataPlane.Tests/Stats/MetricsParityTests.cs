using System.Diagnostics;
using HaLua.DataPlane.Tests.EndToEnd;

namespace HaLua.DataPlane.Tests.Stats;

/// <summary>The same configuration on HAProxy 2.6 (its built-in exporter) and on halua: the same metric families.</summary>
public class MetricsParityTests
{
    private static string Config(HttpOrigin origin, string global, string exporter) => $$"""
        global
           {{global}}
        defaults
           timeout connect 1s
           timeout client 5s
           timeout server 5s
        frontend prom
           mode http
           bind 127.0.0.1:{PORT5}
           {{exporter}}
        frontend fe
           mode http
           bind 127.0.0.1:{PORT0} name l1
           option socket-stats
           default_backend be
        backend be
           mode http
           server s1 127.0.0.1:{{origin.Port}} check inter 200ms
           server s2 127.0.0.1:{PORT4} check inter 200ms
           server s3 127.0.0.1:{{origin.Port}} backup maxconn 10
        listen tcpx
           mode tcp
           bind 127.0.0.1:{PORT1}
           server t1 127.0.0.1:{{origin.Port}}

        """;

    /// <summary>Where HaLua differs on purpose (docs/metrics.md): the type of one family.</summary>
    private static readonly Dictionary<string, string> KnownTypeDifferences = new(StringComparer.Ordinal)
    {
        // A counter without "_total" in HAProxy; promtool rejects that, so a gauge in HaLua.
        ["haproxy_process_failed_resolutions"] = "gauge",
    };

    [HaproxyFact]
    public async Task Families_OnHaproxy26AndHalua_SameNamesTypesHelpAndLabels()
    {
        await using var origin = new HttpOrigin();
        var haproxy = PrometheusText.Parse(await ScrapeHaproxyAsync(Config(origin, "nbthread 1", "http-request use-service prometheus-exporter if { path /metrics }")));

        Dictionary<string, Family> halua;
        await using (var h = await MetricsHost.StartAsync(Config(origin, "metrics 127.0.0.1:{PORT6}", "http-request return status 200")))
        {
            await Task.Delay(1000);
            halua = await h.ScrapeAsync();
        }

        Assert.True(haproxy.Count > 150, "HAProxy's exporter answered");
        var mine = halua.Keys.Where(k => k.StartsWith("haproxy_", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(haproxy.Keys.Order(StringComparer.Ordinal), mine);
        foreach (var (name, theirs) in haproxy)
        {
            var ours = halua[name];
            Assert.True(theirs.Help == ours.Help, $"{name}: HELP '{ours.Help}', HAProxy's '{theirs.Help}'");
            string type = KnownTypeDifferences.GetValueOrDefault(name, theirs.Type!);
            Assert.True(type == ours.Type, $"{name}: TYPE {ours.Type}, HAProxy's {theirs.Type}");
            if (name == "haproxy_process_build_info")
            {
                continue;
            }

            // Every series of HAProxy's, with the same labels (the order of labels in a line does not matter).
            Assert.Equal(theirs.Samples.Select(s => s.LabelText).Order(StringComparer.Ordinal), ours.Samples.Select(s => s.LabelText).Order(StringComparer.Ordinal));
        }
    }

    private static async Task<string> ScrapeHaproxyAsync(string config)
    {
        var (dir, cfg, ports) = HaluaProcess.Prepare(config);
        var (started, stderr) = HaproxyProcess.Start(dir, cfg);
        using var p = started;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            var sw = Stopwatch.StartNew();
            while (true)
            {
                try
                {
                    string first = await http.GetStringAsync($"http://127.0.0.1:{ports[5]}/metrics");
                    // As for halua: scraped after the checks had time to run.
                    await Task.Delay(1000);
                    return await http.GetStringAsync($"http://127.0.0.1:{ports[5]}/metrics") is { Length: > 0 } text ? text : first;
                }
                catch (HttpRequestException) when (!p.HasExited && sw.Elapsed < TimeSpan.FromSeconds(20))
                {
                    await Task.Delay(50);
                }
                catch (HttpRequestException e)
                {
                    throw new InvalidOperationException("haproxy did not start: " + (p.HasExited ? await stderr : e.Message), e);
                }
            }
        }
        finally
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
            Directory.Delete(dir, true);
        }
    }
}
