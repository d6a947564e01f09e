using Grpc.Core;
using HaLua.Admin.V1;

namespace HaLua.ControlPlane.Services;

internal sealed class LuaApi(IAdminRuntime runtime) : LuaService.LuaServiceBase
{
    public override Task<ReloadResponse> Reload(ReloadRequest request, ServerCallContext context) => Task.FromResult(runtime.ReloadLua());

    public override Task<LuaStatus> Status(LuaStatusRequest request, ServerCallContext context) => Task.FromResult(runtime.GetLuaStatus());
}
