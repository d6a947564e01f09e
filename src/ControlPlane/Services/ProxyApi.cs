using Grpc.Core;
using HaLua.Admin.V1;

namespace HaLua.ControlPlane.Services;

internal sealed class ProxyApi(IAdminRuntime runtime) : ProxyService.ProxyServiceBase
{
    public override Task<ListProxiesResponse> ListProxies(ListProxiesRequest request, ServerCallContext context)
        => Task.FromResult(new ListProxiesResponse { Proxies = { runtime.ListProxies() } });

    public override Task<Proxy> GetProxy(ProxyRef request, ServerCallContext context) => Task.FromResult(runtime.GetProxy(request.Name));

    public override Task<Proxy> PauseProxy(ProxyRef request, ServerCallContext context) => Task.FromResult(runtime.PauseProxy(request.Name));

    public override Task<Proxy> ResumeProxy(ProxyRef request, ServerCallContext context) => Task.FromResult(runtime.ResumeProxy(request.Name));

    public override Task<Proxy> StopProxy(ProxyRef request, ServerCallContext context) => Task.FromResult(runtime.StopProxy(request.Name));

    public override Task<ShutdownSessionsResponse> ShutdownBackupSessions(ProxyRef request, ServerCallContext context)
        => Task.FromResult(new ShutdownSessionsResponse { Closed = runtime.ShutdownBackupSessions(request.Name) });

    public override Task<StatRows> GetProxyStats(ProxyRef request, ServerCallContext context)
    {
        runtime.GetProxy(request.Name);
        return Task.FromResult(runtime.ShowStat(request.Name));
    }
}
