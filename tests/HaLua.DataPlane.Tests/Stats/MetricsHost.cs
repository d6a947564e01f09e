using HaLua.DataPlane.Tests.EndToEnd;
using HaLua.Sdk;

namespace HaLua.DataPlane.Tests.Stats;

/// <summary>
/// A running halua whose global section has <c>metrics 127.0.0.1:{PORT6}</c> (and, optionally,
/// <c>admin-api 127.0.0.1:{PORT7}</c>): scrapes its /metrics, and an SDK client for the admin API.
/// </summary>
internal sealed class MetricsHost : IAsyncDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(20) };

    private MetricsHost(HaluaProcess process, HaLuaAdminClient? client)
    {
        Process = process;
        Client = client;
    }

    public HaluaProcess Process { get; }

    public HaLuaAdminClient? Client { get; }

    public HaLuaAdminClient Admin => Client ?? throw new InvalidOperationException("no admin-api in this configuration");

    public int[] Ports => Process.Ports;

    public string MetricsUrl => $"http://127.0.0.1:{Ports[6]}/metrics";

    public static async Task<MetricsHost> StartAsync(string config, IReadOnlyDictionary<string, string>? files = null)
    {
        var process = await HaluaProcess.StartReadyAsync(config, files, ready: "metrics listening");

        var client = config.Contains("admin-api", StringComparison.Ordinal)
            ? new HaLuaAdminClient(new HaLuaAdminClientOptions { Address = $"127.0.0.1:{process.Ports[7]}" })
            : null;
        return new MetricsHost(process, client);
    }

    public Task<string> ScrapeTextAsync(string? url = null) => Http.GetStringAsync(url ?? MetricsUrl);

    public async Task<Dictionary<string, Family>> ScrapeAsync() => PrometheusText.Parse(await ScrapeTextAsync());

    /// <summary>Scrapes until <paramref name="done"/> holds (a stream's counters are final a moment after the client has its response).</summary>
    public async Task<Dictionary<string, Family>> ScrapeUntilAsync(Func<Dictionary<string, Family>, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var scrape = await ScrapeAsync();
            if (done(scrape) || DateTime.UtcNow > deadline)
            {
                return scrape;
            }

            await Task.Delay(50);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        await Process.DisposeAsync();
    }
}
