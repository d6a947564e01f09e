using Grpc.Core;
using HaLua.Admin.V1;

namespace HaLua.ControlPlane.Services;

internal sealed class ServerApi(IAdminRuntime runtime) : ServerService.ServerServiceBase
{
    public override Task<ListServersResponse> ListServers(ListServersRequest request, ServerCallContext context)
        => Task.FromResult(new ListServersResponse { Servers = { runtime.ListServers(request.Backend.Length == 0 ? null : request.Backend) } });

    public override Task<Server> GetServer(ServerRef request, ServerCallContext context) => Task.FromResult(runtime.GetServer(request.Backend, request.Server));

    public override Task<Server> SetWeight(SetWeightRequest request, ServerCallContext context)
        => Task.FromResult(runtime.SetWeight(request.Backend, request.Server, request.Weight));

    public override Task<Server> SetAddress(SetAddressRequest request, ServerCallContext context)
        => Task.FromResult(runtime.SetAddress(request.Backend, request.Server, request.Address, request.Port));

    public override Task<Server> SetAdminState(SetAdminStateRequest request, ServerCallContext context)
        => Task.FromResult(runtime.SetAdminState(request.Backend, request.Server, request.State));

    public override Task<Server> SetHealth(SetHealthRequest request, ServerCallContext context)
        => Task.FromResult(runtime.SetHealth(request.Backend, request.Server, request.Action));

    public override Task<Server> SetAgent(SetAgentRequest request, ServerCallContext context)
        => Task.FromResult(runtime.SetAgent(request.Backend, request.Server, request.Action));

    public override Task<ShutdownSessionsResponse> ShutdownSessions(ServerRef request, ServerCallContext context)
        => Task.FromResult(new ShutdownSessionsResponse { Closed = runtime.ShutdownSessions(request.Backend, request.Server) });

    public override Task<StatRows> GetServerStats(ServerRef request, ServerCallContext context)
    {
        runtime.GetServer(request.Backend, request.Server);
        return Task.FromResult(runtime.ShowStat(request.Backend, request.Server));
    }

    public override Task<Server> AddServer(AddServerRequest request, ServerCallContext context) => Task.FromResult(runtime.AddServer(request));

    public override Task<DeleteServerResponse> DeleteServer(ServerRef request, ServerCallContext context)
    {
        runtime.DeleteServer(request.Backend, request.Server);
        return Task.FromResult(new DeleteServerResponse());
    }
}
