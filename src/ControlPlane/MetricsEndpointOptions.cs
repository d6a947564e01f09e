using System.Diagnostics.Metrics;
using System.Net;

namespace HaLua.ControlPlane;

/// <summary>
/// Where the Prometheus scrape endpoint listens (the <c>metrics</c> global keyword): plaintext
/// HTTP/1.1, on the same Kestrel host as the admin API when both are configured.
/// </summary>
public sealed record MetricsEndpointOptions(IPEndPoint Endpoint)
{
    /// <summary>The scrape path.</summary>
    public string Path { get; init; } = "/metrics";

    /// <summary>The names of the meters exported.</summary>
    public IReadOnlyList<string> Meters { get; init; } = [];

    /// <summary>How many series an instrument may have (OpenTelemetry's cardinality limit); null: the default.</summary>
    public Func<Instrument, int?>? CardinalityLimit { get; init; }

    /// <summary>Called before each scrape is collected (observable instruments read a fresh snapshot of the stats).</summary>
    public Action? BeforeScrape { get; init; }
}
