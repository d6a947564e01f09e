using HaLua.ControlPlane;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Lua;
using HaLua.DataPlane.Runtime;
using HaLua.DataPlane.Stats;

namespace HaLua.DataPlane.Control;

/// <summary>
/// Starts what <c>admin-api</c> and <c>metrics</c> configure over the running host: the gRPC admin
/// endpoint and the Prometheus scrape endpoint, on one Kestrel host.
/// </summary>
internal sealed class AdminApi : IAsyncDisposable
{
    private readonly AdminEndpoint _endpoint;
    private readonly HaproxyMetrics? _haproxyMetrics;
    private readonly HaluaMetrics? _haluaMetrics;

    private AdminApi(AdminEndpoint endpoint, HaproxyMetrics? haproxyMetrics, HaluaMetrics? haluaMetrics)
    {
        _endpoint = endpoint;
        _haproxyMetrics = haproxyMetrics;
        _haluaMetrics = haluaMetrics;
    }

    /// <summary>Starts the endpoints <paramref name="global"/> configures; null when it configures none.</summary>
    /// <exception cref="IOException">A port is taken, or a token or certificate file cannot be read.</exception>
    /// <exception cref="InvalidOperationException">The token is missing or empty.</exception>
    public static AdminApi? Start(GlobalConfig global, DataPlaneHost host)
    {
        if (global.AdminApi is null && global.Metrics is null)
        {
            return null;
        }

        var admin = global.AdminApi is { } config ? Options(config) : null;
        HaproxyMetrics? haproxy = null;
        HaluaMetrics? halua = null;
        MetricsEndpointOptions? metrics = null;
        if (global.Metrics is { } m)
        {
            haproxy = new HaproxyMetrics(host);
            halua = new HaluaMetrics(host);
            metrics = new MetricsEndpointOptions(m.Endpoint)
            {
                Path = m.Path,
                Meters = [HaproxyMetrics.MeterName, HaluaMetrics.MeterName, LuaMetrics.MeterName, ControlMetrics.MeterName],
                CardinalityLimit = HaproxyMetrics.SeriesLimits(host.Generation.Config),
                BeforeScrape = haproxy.Invalidate,
            };
        }

        try
        {
            var endpoint = AdminEndpoint.StartAsync(admin, admin is null ? null : new AdminRuntime(host), metrics).GetAwaiter().GetResult();
            if (admin is not null)
            {
                ProcessLog.Instance.Notice($"admin API listening on {admin.Endpoint} ({(admin.CertificateFile is null ? "plaintext HTTP/2" : admin.ClientCaFile is null ? "TLS" : "mutual TLS")}, {(admin.Token is null ? "no token" : "bearer token required")})");
            }

            if (metrics is not null)
            {
                ProcessLog.Instance.Notice($"metrics listening on http://{metrics.Endpoint}{metrics.Path} (Prometheus, HTTP/1.1)");
            }

            return new AdminApi(endpoint, haproxy, halua);
        }
        catch
        {
            haproxy?.Dispose();
            halua?.Dispose();
            throw;
        }
    }

    private static AdminEndpointOptions Options(AdminApiConfig config)
    {
        string? token = null;
        if (config.TokenFile is { } file)
        {
            token = File.ReadAllText(file).Trim();
            if (token.Length == 0)
            {
                throw new InvalidOperationException($"the token file '{file}' is empty");
            }
        }
        else if (config.TokenEnv is { } variable)
        {
            token = Environment.GetEnvironmentVariable(variable)?.Trim();
            if (string.IsNullOrEmpty(token))
            {
                throw new InvalidOperationException($"the environment variable '{variable}' (token-env) is not set or empty");
            }
        }

        return new AdminEndpointOptions(config.Endpoint)
        {
            Token = token,
            CertificateFile = config.CertificateFile,
            KeyFile = config.KeyFile,
            ClientCaFile = config.ClientCaFile,
            ErrorLog = ProcessLog.Instance.Alert,
            AuditLog = ProcessLog.Instance.Audit,
        };
    }

    public async ValueTask DisposeAsync()
    {
        await _endpoint.DisposeAsync().ConfigureAwait(false);
        _haproxyMetrics?.Dispose();
        _haluaMetrics?.Dispose();
    }
}
