using System.Net.Security;
using System.Runtime.CompilerServices;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Grpc.Core;
using Grpc.Net.Client;
using HaLua.Admin.V1;

namespace HaLua.Sdk;

/// <summary>
/// A client of one halua's admin API. It owns its HTTP/2 channel: create one per data plane and
/// keep it (it is thread-safe); dispose it when done. Failed calls throw <see cref="RpcException"/>
/// with the server's status (NOT_FOUND for an unknown server, INVALID_ARGUMENT for a bad weight...).
/// </summary>
public sealed partial class HaLuaAdminClient : IDisposable
{
    private readonly GrpcChannel _channel;
    private readonly TimeSpan? _timeout;

    public HaLuaAdminClient(string address)
        : this(new HaLuaAdminClientOptions { Address = address })
    {
    }

    public HaLuaAdminClient(HaLuaAdminClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Address = options.Address;
        _timeout = options.Timeout;
        var handler = new SocketsHttpHandler { EnableMultipleHttp2Connections = true };
        if (options.ClientCertificate is not null || options.ServerCa is not null || options.SkipServerCertificateValidation)
        {
            handler.SslOptions = new SslClientAuthenticationOptions
            {
                ClientCertificates = options.ClientCertificate is null ? null : [options.ClientCertificate],
                RemoteCertificateValidationCallback = (_, cert, _, errors) => Validate(options, cert, errors),
            };
        }

        var channelOptions = new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true };
        if (options.Token is { } token)
        {
            var credentials = CallCredentials.FromInterceptor((_, metadata) =>
            {
                metadata.Add("authorization", "Bearer " + token);
                return Task.CompletedTask;
            });
            channelOptions.Credentials = options.Uri.Scheme == "https" ? ChannelCredentials.Create(ChannelCredentials.SecureSsl, credentials) : ChannelCredentials.Create(ChannelCredentials.Insecure, credentials);
            channelOptions.UnsafeUseInsecureChannelCallCredentials = true;
        }

        _channel = GrpcChannel.ForAddress(options.Uri, channelOptions);
        Proxies = new ProxyService.ProxyServiceClient(_channel);
        Servers = new ServerService.ServerServiceClient(_channel);
        Maps = new MapService.MapServiceClient(_channel);
        Acls = new AclService.AclServiceClient(_channel);
        Lua = new LuaService.LuaServiceClient(_channel);
        Cli = new CliService.CliServiceClient(_channel);
        Stats = new StatsService.StatsServiceClient(_channel);
    }

    /// <summary>The address this client talks to, as given.</summary>
    public string Address { get; }

    /// <summary>The generated stubs, for calls the typed methods do not cover.</summary>
    public ProxyService.ProxyServiceClient Proxies { get; }

    public ServerService.ServerServiceClient Servers { get; }

    public MapService.MapServiceClient Maps { get; }

    public AclService.AclServiceClient Acls { get; }

    public LuaService.LuaServiceClient Lua { get; }

    public CliService.CliServiceClient Cli { get; }

    public StatsService.StatsServiceClient Stats { get; }

    public GrpcChannel Channel => _channel;

    private CallOptions Options(CancellationToken cancellationToken)
        => new(deadline: _timeout is { } t ? DateTime.UtcNow + t : null, cancellationToken: cancellationToken);

    // Proxies

    public async Task<IReadOnlyList<Proxy>> ListProxiesAsync(CancellationToken cancellationToken = default)
        => (await Proxies.ListProxiesAsync(new ListProxiesRequest(), Options(cancellationToken)).ConfigureAwait(false)).Proxies;

    public async Task<Proxy> GetProxyAsync(string name, CancellationToken cancellationToken = default)
        => await Proxies.GetProxyAsync(new ProxyRef { Name = name }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<Proxy> PauseProxyAsync(string name, CancellationToken cancellationToken = default)
        => await Proxies.PauseProxyAsync(new ProxyRef { Name = name }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<Proxy> ResumeProxyAsync(string name, CancellationToken cancellationToken = default)
        => await Proxies.ResumeProxyAsync(new ProxyRef { Name = name }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<Proxy> StopProxyAsync(string name, CancellationToken cancellationToken = default)
        => await Proxies.StopProxyAsync(new ProxyRef { Name = name }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<int> ShutdownBackupSessionsAsync(string proxy, CancellationToken cancellationToken = default)
        => (await Proxies.ShutdownBackupSessionsAsync(new ProxyRef { Name = proxy }, Options(cancellationToken)).ConfigureAwait(false)).Closed;

    public async Task<StatRows> GetProxyStatsAsync(string proxy, CancellationToken cancellationToken = default)
        => await Proxies.GetProxyStatsAsync(new ProxyRef { Name = proxy }, Options(cancellationToken)).ConfigureAwait(false);

    // Servers

    public async Task<IReadOnlyList<Server>> ListServersAsync(string? backend = null, CancellationToken cancellationToken = default)
        => (await Servers.ListServersAsync(new ListServersRequest { Backend = backend ?? "" }, Options(cancellationToken)).ConfigureAwait(false)).Servers;

    public async Task<Server> GetServerAsync(string backend, string server, CancellationToken cancellationToken = default)
        => await Servers.GetServerAsync(new ServerRef { Backend = backend, Server = server }, Options(cancellationToken)).ConfigureAwait(false);

    /// <param name="weight">"0".."256" or "N%" of the configured weight.</param>
    public async Task<Server> SetWeightAsync(string backend, string server, string weight, CancellationToken cancellationToken = default)
        => await Servers.SetWeightAsync(new SetWeightRequest { Backend = backend, Server = server, Weight = weight }, Options(cancellationToken)).ConfigureAwait(false);

    /// <param name="port">0 keeps the current port.</param>
    public async Task<Server> SetAddressAsync(string backend, string server, string address, int port = 0, CancellationToken cancellationToken = default)
        => await Servers.SetAddressAsync(new SetAddressRequest { Backend = backend, Server = server, Address = address, Port = port }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<Server> SetAdminStateAsync(string backend, string server, AdminState state, CancellationToken cancellationToken = default)
        => await Servers.SetAdminStateAsync(new SetAdminStateRequest { Backend = backend, Server = server, State = state }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<Server> SetHealthAsync(string backend, string server, HealthAction action, CancellationToken cancellationToken = default)
        => await Servers.SetHealthAsync(new SetHealthRequest { Backend = backend, Server = server, Action = action }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<Server> SetAgentAsync(string backend, string server, AgentAction action, CancellationToken cancellationToken = default)
        => await Servers.SetAgentAsync(new SetAgentRequest { Backend = backend, Server = server, Action = action }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<int> ShutdownSessionsAsync(string backend, string server, CancellationToken cancellationToken = default)
        => (await Servers.ShutdownSessionsAsync(new ServerRef { Backend = backend, Server = server }, Options(cancellationToken)).ConfigureAwait(false)).Closed;

    public async Task<StatRows> GetServerStatsAsync(string backend, string server, CancellationToken cancellationToken = default)
        => await Servers.GetServerStatsAsync(new ServerRef { Backend = backend, Server = server }, Options(cancellationToken)).ConfigureAwait(false);

    public async Task<Server> AddServerAsync(AddServerRequest request, CancellationToken cancellationToken = default)
        => await Servers.AddServerAsync(request, Options(cancellationToken)).ConfigureAwait(false);

    public async Task DeleteServerAsync(string backend, string server, CancellationToken cancellationToken = default)
        => await Servers.DeleteServerAsync(new ServerRef { Backend = backend, Server = server }, Options(cancellationToken)).ConfigureAwait(false);

    // Lua

    public async Task<ReloadResponse> ReloadLuaAsync(CancellationToken cancellationToken = default)
        => await Lua.ReloadAsync(new ReloadRequest(), Options(cancellationToken)).ConfigureAwait(false);

    public async Task<LuaStatus> GetLuaStatusAsync(CancellationToken cancellationToken = default)
        => await Lua.StatusAsync(new LuaStatusRequest(), Options(cancellationToken)).ConfigureAwait(false);

    // Runtime CLI

    /// <summary>Runs a runtime command (HAProxy's or a Lua <c>core.register_cli</c> one); its output chunks as they come.</summary>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> ExecuteStreamAsync(string command, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var call = Cli.Execute(new CliRequest { Command = command }, new CallOptions(cancellationToken: cancellationToken));
        while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
        {
            yield return call.ResponseStream.Current.Data.Memory;
        }
    }

    /// <summary>Runs a runtime command and returns its whole output.</summary>
    public async Task<string> ExecuteAsync(string command, CancellationToken cancellationToken = default)
    {
        var text = new StringBuilder();
        await foreach (var chunk in ExecuteStreamAsync(command, cancellationToken).ConfigureAwait(false))
        {
            text.Append(Encoding.UTF8.GetString(chunk.Span));
        }

        return text.ToString();
    }

    // Stats

    public async Task<IReadOnlyList<InfoField>> ShowInfoAsync(CancellationToken cancellationToken = default)
        => (await Stats.ShowInfoAsync(new ShowInfoRequest(), Options(cancellationToken)).ConfigureAwait(false)).Fields;

    public async Task<StatRows> ShowStatAsync(string? proxy = null, CancellationToken cancellationToken = default)
        => await Stats.ShowStatAsync(new ShowStatRequest { Proxy = proxy ?? "" }, Options(cancellationToken)).ConfigureAwait(false);

    /// <summary>
    /// Subscribes to runtime events. The returned task completes once the data plane has the
    /// subscription: every change made after that is in the stream.
    /// </summary>
    public async Task<IAsyncEnumerable<Event>> WatchAsync(CancellationToken cancellationToken = default)
    {
        var call = Stats.Watch(new WatchRequest(), new CallOptions(cancellationToken: cancellationToken));
        try
        {
            await call.ResponseHeadersAsync.ConfigureAwait(false);
        }
        catch
        {
            call.Dispose();
            throw;
        }

        return ReadEvents(call, cancellationToken);
    }

    private static async IAsyncEnumerable<Event> ReadEvents(AsyncServerStreamingCall<Event> call, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using (call)
        {
            while (await call.ResponseStream.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                yield return call.ResponseStream.Current;
            }
        }
    }

    private static bool Validate(HaLuaAdminClientOptions options, X509Certificate? certificate, SslPolicyErrors errors)
    {
        if (options.SkipServerCertificateValidation || errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (options.ServerCa is null || certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(options.ServerCa);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        // Name mismatches still fail: only the chain's root is ours to choose.
        return (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None && chain.Build(X509CertificateLoader.LoadCertificate(certificate.GetRawCertData()));
    }

    public void Dispose() => _channel.Dispose();
}
