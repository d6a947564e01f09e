using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using HaLua.DataPlane.Tests.EndToEnd;
using HaLua.Sdk;

namespace HaLua.DataPlane.Tests.Control;

/// <summary>The admin API over TLS and mutual TLS, with certificates made by the test.</summary>
public class AdminTlsTests
{
    private static X509Certificate2 MakeCa(string name)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        return req.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    private static X509Certificate2 Issue(X509Certificate2 ca, string name, bool server)
    {
        var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var req = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(server ? "1.3.6.1.5.5.7.3.1" : "1.3.6.1.5.5.7.3.2")], false));
        if (server)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            req.CertificateExtensions.Add(san.Build());
        }

        var serial = RandomNumberGenerator.GetBytes(8);
        using var cert = req.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(10), serial);
        return cert.CopyWithPrivateKey(key);
    }

    private static string Pem(X509Certificate2 cert, bool withKey)
        => cert.ExportCertificatePem() + "\n" + (withKey ? cert.GetECDsaPrivateKey()!.ExportPkcs8PrivateKeyPem() + "\n" : "");

    private const string Config = """
        global
           admin-api 127.0.0.1:{PORT7} crt {DIR}/server.pem ca-file {DIR}/ca.pem
        frontend fe
           bind 127.0.0.1:{PORT0}
           mode tcp
           timeout client 1s
           tcp-request content reject
        """;

    [Fact]
    public async Task MutualTls_RequiresAClientCertificateFromTheCa()
    {
        using var ca = MakeCa("halua test ca");
        using var otherCa = MakeCa("someone else");
        using var server = Issue(ca, "halua admin", server: true);
        using var client = Issue(ca, "controller", server: false);
        using var stranger = Issue(otherCa, "stranger", server: false);
        var files = new Dictionary<string, string> { ["server.pem"] = Pem(server, true), ["ca.pem"] = Pem(ca, false) };
        var caPublic = X509CertificateLoader.LoadCertificate(ca.RawData);
        await using var h = await AdminHost.StartAsync(Config, files, address => new HaLuaAdminClientOptions
        {
            Address = address,
            UseTls = true,
            ServerCa = caPublic,
            ClientCertificate = client,
        });
        Assert.Equal("fe", Assert.Single(await h.Client.ListProxiesAsync()).Name);

        // Who changed something: the client certificate's subject is in the audit line.
        await h.Client.PauseProxyAsync("fe");
        await h.Process.WaitForStderrAsync("PauseProxy", TimeSpan.FromSeconds(10));
        Assert.Contains("auth=none cert=\"CN=controller\" /halua.admin.v1.ProxyService/PauseProxy name=fe -> OK", h.Process.Stderr, StringComparison.Ordinal);

        using var noCert = new HaLuaAdminClient(new HaLuaAdminClientOptions { Address = h.AdminAddress, UseTls = true, ServerCa = caPublic });
        await Assert.ThrowsAnyAsync<Exception>(() => noCert.ListProxiesAsync());

        using var wrongCa = new HaLuaAdminClient(new HaLuaAdminClientOptions { Address = h.AdminAddress, UseTls = true, ServerCa = caPublic, ClientCertificate = stranger });
        await Assert.ThrowsAnyAsync<Exception>(() => wrongCa.ListProxiesAsync());

        // And the client refuses a server its CA did not issue.
        using var distrust = new HaLuaAdminClient(new HaLuaAdminClientOptions { Address = h.AdminAddress, UseTls = true, ServerCa = X509CertificateLoader.LoadCertificate(otherCa.RawData), ClientCertificate = client });
        await Assert.ThrowsAnyAsync<Exception>(() => distrust.ListProxiesAsync());
    }
}
