using System.Net;

namespace HaLua.ControlPlane;

/// <summary>Where and how the admin API listens (the <c>admin-api</c> global keyword).</summary>
public sealed record AdminEndpointOptions(IPEndPoint Endpoint)
{
    /// <summary>Required bearer token; null: no token authentication.</summary>
    public string? Token { get; init; }

    /// <summary>PEM certificate (with its key, or <see cref="KeyFile"/>) to serve TLS; null: plaintext HTTP/2.</summary>
    public string? CertificateFile { get; init; }

    public string? KeyFile { get; init; }

    /// <summary>PEM CA bundle: with it, clients must present a certificate it issued (mutual TLS).</summary>
    public string? ClientCaFile { get; init; }

    /// <summary>Where unexpected failures of a call are reported (the process log).</summary>
    public Action<string>? ErrorLog { get; init; }

    /// <summary>Where the calls that change something are reported (who, what, outcome).</summary>
    public Action<AdminAuditEntry>? AuditLog { get; init; }
}
