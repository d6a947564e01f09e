using System.Security.Cryptography.X509Certificates;

namespace HaLua.Sdk;

/// <summary>How to reach one halua admin endpoint.</summary>
public sealed class HaLuaAdminClientOptions
{
    /// <summary><c>host:port</c> (plaintext HTTP/2 unless <see cref="UseTls"/>), or a full <c>http://</c>/<c>https://</c> URI.</summary>
    public string Address { get; set; } = "127.0.0.1:9400";

    /// <summary>Sent as <c>authorization: Bearer TOKEN</c> on every call.</summary>
    public string? Token { get; set; }

    public bool UseTls { get; set; }

    /// <summary>Client certificate for mutual TLS.</summary>
    public X509Certificate2? ClientCertificate { get; set; }

    /// <summary>CA that issued the server's certificate; null: the system's trust store.</summary>
    public X509Certificate2? ServerCa { get; set; }

    /// <summary>Accept any server certificate (tests, self-signed setups).</summary>
    public bool SkipServerCertificateValidation { get; set; }

    /// <summary>Applied to each call that has no deadline of its own; null: none.</summary>
    public TimeSpan? Timeout { get; set; } = TimeSpan.FromSeconds(30);

    internal Uri Uri
    {
        get
        {
            if (Address.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || Address.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            {
                return new Uri(Address);
            }

            return new Uri((UseTls ? "https://" : "http://") + Address);
        }
    }
}
