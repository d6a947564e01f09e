using System.Security.Cryptography.X509Certificates;
using Grpc.Health.V1;
using Grpc.HealthCheck;
using HaLua.ControlPlane.Services;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry.Metrics;

namespace HaLua.ControlPlane;

/// <summary>
/// The gRPC admin endpoint inside the halua process: HTTP/2 (plaintext, TLS, or mutual TLS) on
/// Kestrel, the halua.admin.v1 services, gRPC reflection and grpc.health.v1; and on the same
/// host, the Prometheus scrape endpoint (<see cref="MetricsEndpoint"/>).
/// </summary>
public sealed class AdminEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly MeterProvider? _meters;

    private AdminEndpoint(WebApplication app, MeterProvider? meters)
    {
        _app = app;
        _meters = meters;
    }

    /// <summary>Where it listens (the bound port when the configuration asked for port 0).</summary>
    public IReadOnlyList<string> Addresses => [.. _app.Urls];

    public static Task<AdminEndpoint> StartAsync(AdminEndpointOptions options, IAdminRuntime runtime, CancellationToken cancellationToken = default)
        => StartAsync(options, runtime, null, cancellationToken);

    /// <summary>
    /// Starts the admin API (when <paramref name="options"/> is given), the Prometheus scrape
    /// endpoint (when <paramref name="metrics"/> is given), or both on one Kestrel host: the admin
    /// API on its HTTP/2 address, the scrape endpoint on its own HTTP/1.1 address.
    /// </summary>
    public static async Task<AdminEndpoint> StartAsync(AdminEndpointOptions? options, IAdminRuntime? runtime, MetricsEndpointOptions? metrics, CancellationToken cancellationToken = default)
    {
        if (options is null && metrics is null)
        {
            throw new ArgumentException("neither the admin API nor the metrics endpoint is configured", nameof(options));
        }

        // An empty host: no appsettings.json or ASPNETCORE_* configuration from the working directory
        // or the environment (halua's configuration file is the only one), no logging providers,
        // and no file watcher on the working directory (the default host watches it for
        // appsettings.json changes, and then every log line halua writes there wakes it).
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore();
        builder.Services.AddRoutingCore();
        var provider = metrics is null ? null : MetricsEndpoint.BuildProvider(metrics);
        try
        {
            builder.WebHost.ConfigureKestrel(k =>
            {
                k.AddServerHeader = false;
                if (options is not null)
                {
                    ListenAdmin(k, options);
                }

                if (metrics is not null)
                {
                    MetricsEndpoint.Listen(k, metrics);
                }
            });

            if (options is not null)
            {
                AddAdminServices(builder, options, runtime ?? throw new ArgumentNullException(nameof(runtime)));
            }

            var app = builder.Build();
            if (metrics is not null)
            {
                MetricsEndpoint.Map(app, metrics, provider!);
            }

            if (options is not null)
            {
                MapAdminServices(app);
            }

            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            return new AdminEndpoint(app, provider);
        }
        catch
        {
            provider?.Dispose();
            throw;
        }
    }

    private static void ListenAdmin(KestrelServerOptions k, AdminEndpointOptions options)
    {
        X509Certificate2? certificate = null;
        X509Certificate2Collection? clientCas = null;
        if (options.CertificateFile is { } crt)
        {
            certificate = X509CertificateLoader.LoadPkcs12(X509Certificate2.CreateFromPemFile(crt, options.KeyFile).Export(X509ContentType.Pkcs12), null);
        }

        if (options.ClientCaFile is { } ca)
        {
            clientCas = [];
            clientCas.ImportFromPemFile(ca);
        }

        k.Listen(options.Endpoint, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (certificate is not null)
            {
                listen.UseHttps(https =>
                {
                    https.ServerCertificate = certificate;
                    if (clientCas is not null)
                    {
                        https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                        https.ClientCertificateValidation = (cert, _, _) => IsIssuedBy(cert, clientCas);
                    }
                });
            }
        });
    }

    private static void AddAdminServices(WebApplicationBuilder builder, AdminEndpointOptions options, IAdminRuntime runtime)
    {
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(runtime);
        builder.Services.AddGrpc(o =>
        {
            o.Interceptors.Add<AdminInterceptor>();
            o.EnableDetailedErrors = false;
        });
        builder.Services.AddGrpcReflection();
        var health = new HealthServiceImpl();
        health.SetStatus("", HealthCheckResponse.Types.ServingStatus.Serving);
        foreach (var name in ServiceNames)
        {
            health.SetStatus(name, HealthCheckResponse.Types.ServingStatus.Serving);
        }

        builder.Services.AddSingleton(health);
    }

    private static void MapAdminServices(WebApplication app)
    {
        app.MapGrpcService<ProxyApi>();
        app.MapGrpcService<ServerApi>();
        app.MapGrpcService<MapApi>();
        app.MapGrpcService<AclApi>();
        app.MapGrpcService<LuaApi>();
        app.MapGrpcService<CliApi>();
        app.MapGrpcService<StatsApi>();
        app.MapGrpcService<HealthServiceImpl>();
        app.MapGrpcReflectionService();
    }

    /// <summary>The admin services' full names (as reflection and health know them).</summary>
    public static IReadOnlyList<string> ServiceNames { get; } =
    [
        Admin.V1.ProxyService.Descriptor.FullName,
        Admin.V1.ServerService.Descriptor.FullName,
        Admin.V1.MapService.Descriptor.FullName,
        Admin.V1.AclService.Descriptor.FullName,
        Admin.V1.LuaService.Descriptor.FullName,
        Admin.V1.CliService.Descriptor.FullName,
        Admin.V1.StatsService.Descriptor.FullName,
    ];

    private static bool IsIssuedBy(X509Certificate2 certificate, X509Certificate2Collection roots)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        await _app.StopAsync(timeout.Token).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        _meters?.Dispose();
    }
}
