using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;

namespace HaLua.ControlPlane;

/// <summary>
/// The Prometheus scrape endpoint: OpenTelemetry's exporter over the process's meters, on its own
/// plaintext HTTP/1.1 address (Prometheus scrapes HTTP/1.1; the admin API is HTTP/2 only). Names
/// go out as the instruments spell them (HAProxy's): no unit or <c>_total</c> suffix is added, and
/// no <c>target_info</c> or scope labels, and the format is the classic text one (0.0.4), so that
/// HAProxy dashboards read them unchanged.
/// </summary>
internal static class MetricsEndpoint
{
    /// <summary>Marks the connections accepted on the metrics address.</summary>
    private const string ConnectionKey = "halua.metrics";

    public static MeterProvider BuildProvider(MetricsEndpointOptions metrics)
    {
        var builder = OpenTelemetry.Sdk.CreateMeterProviderBuilder();
        foreach (var name in metrics.Meters)
        {
            builder.AddMeter(name);
        }

        if (metrics.CardinalityLimit is { } limit)
        {
            builder.AddView(instrument => limit(instrument) is { } n ? new MetricStreamConfiguration { CardinalityLimit = n } : null);
        }

        return builder.AddPrometheusExporter(o =>
        {
            o.ScrapeEndpointPath = metrics.Path;
            o.TranslationStrategy = PrometheusAspNetCoreTranslationStrategy.NoTranslation;
            o.DisableTotalNameSuffixForCounters = true;
            o.ScopeInfoEnabled = false;
            o.TargetInfoEnabled = false;
            // Each scrape reads the live counters, as HAProxy's exporter does.
            o.ScrapeResponseCacheDurationMilliseconds = 0;
        }).Build();
    }

    public static void Listen(KestrelServerOptions k, MetricsEndpointOptions metrics)
        => k.Listen(metrics.Endpoint, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            listen.Use(next => connection =>
            {
                connection.Items[ConnectionKey] = true;
                return next(connection);
            });
        });

    /// <summary>On the metrics address: the scrape path, and 404 for everything else (the gRPC services are not reachable there).</summary>
    public static void Map(WebApplication app, MetricsEndpointOptions metrics, MeterProvider provider)
        => app.UseWhen(IsMetricsConnection, branch =>
        {
            branch.Use((context, next) =>
            {
                if (context.Request.Path == metrics.Path)
                {
                    // The classic text format only, as HAProxy's exporter: in OpenMetrics a counter's
                    // family name may not end in "_total" (HAProxy's names do) and "_created" series are added.
                    context.Request.Headers.Accept = "text/plain; version=0.0.4";
                    metrics.BeforeScrape?.Invoke();
                }

                return next(context);
            });
            branch.UseOpenTelemetryPrometheusScrapingEndpoint(provider, context => context.Request.Path == metrics.Path, null, null, null);
            branch.Run(context =>
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
        });

    private static bool IsMetricsConnection(HttpContext context)
        => context.Features.Get<IConnectionItemsFeature>()?.Items.ContainsKey(ConnectionKey) == true;
}
