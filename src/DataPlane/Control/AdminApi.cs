using HaLua.ControlPlane;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Runtime;

namespace HaLua.DataPlane.Control;

/// <summary>Starts the gRPC admin endpoint of <c>admin-api</c> over the running host.</summary>
internal static class AdminApi
{
    /// <exception cref="IOException">The port is taken, or a token or certificate file cannot be read.</exception>
    /// <exception cref="InvalidOperationException">The token is missing or empty.</exception>
    public static AdminEndpoint Start(AdminApiConfig config, DataPlaneHost host)
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

        var options = new AdminEndpointOptions(config.Endpoint)
        {
            Token = token,
            CertificateFile = config.CertificateFile,
            KeyFile = config.KeyFile,
            ClientCaFile = config.ClientCaFile,
            ErrorLog = ProcessLog.Instance.Alert,
        };
        var endpoint = AdminEndpoint.StartAsync(options, new AdminRuntime(host)).GetAwaiter().GetResult();
        ProcessLog.Instance.Notice($"admin API listening on {config.Endpoint} ({(options.CertificateFile is null ? "plaintext HTTP/2" : options.ClientCaFile is null ? "TLS" : "mutual TLS")}, {(token is null ? "no token" : "bearer token required")})");
        return endpoint;
    }
}
