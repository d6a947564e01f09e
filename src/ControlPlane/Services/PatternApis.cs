using Grpc.Core;
using HaLua.Admin.V1;

namespace HaLua.ControlPlane.Services;

internal sealed class MapApi(IAdminRuntime runtime) : MapService.MapServiceBase
{
    private readonly IPatternAdmin _maps = runtime.Patterns(maps: true);

    public override Task<ListPatternFilesResponse> ListMaps(ListPatternFilesRequest request, ServerCallContext context)
        => Task.FromResult(new ListPatternFilesResponse { Files = { _maps.List() } });

    public override Task<ShowPatternsResponse> ShowMap(ShowPatternsRequest request, ServerCallContext context)
        => Task.FromResult(new ShowPatternsResponse { Entries = { _maps.Show(request.Name, request.Version) } });

    public override Task<LookupResponse> LookupMap(LookupRequest request, ServerCallContext context)
        => Task.FromResult(_maps.Lookup(request.Name, request.Key, request.Method, request.IgnoreCase));

    public override Task<EditResponse> SetMapEntry(SetEntryRequest request, ServerCallContext context)
        => Task.FromResult(_maps.Set(request.Name, request.Key, request.Value, request.Persist));

    public override Task<EditResponse> AddMapEntry(AddEntryRequest request, ServerCallContext context)
        => Task.FromResult(_maps.Add(request.Name, request.Key, request.Value, request.Persist));

    public override Task<EditResponse> DeleteMapEntry(DeleteEntryRequest request, ServerCallContext context)
        => Task.FromResult(_maps.Delete(request.Name, request.Key, request.Persist));

    public override Task<EditResponse> ClearMap(ClearRequest request, ServerCallContext context)
        => Task.FromResult(_maps.Clear(request.Name, request.Persist));

    public override Task<PrepareResponse> PrepareMap(PrepareRequest request, ServerCallContext context)
        => Task.FromResult(new PrepareResponse { Version = _maps.Prepare(request.Name) });

    public override Task<EditResponse> AddMapEntryToVersion(AddEntryRequest request, ServerCallContext context)
        => Task.FromResult(_maps.AddToVersion(request.Name, request.Version, request.Key, request.Value));

    public override Task<EditResponse> CommitMap(CommitRequest request, ServerCallContext context)
        => Task.FromResult(_maps.Commit(request.Name, request.Version, request.Persist));
}

internal sealed class AclApi(IAdminRuntime runtime) : AclService.AclServiceBase
{
    private readonly IPatternAdmin _acls = runtime.Patterns(maps: false);

    public override Task<ListPatternFilesResponse> ListAcls(ListPatternFilesRequest request, ServerCallContext context)
        => Task.FromResult(new ListPatternFilesResponse { Files = { _acls.List() } });

    public override Task<ShowPatternsResponse> ShowAcl(ShowPatternsRequest request, ServerCallContext context)
        => Task.FromResult(new ShowPatternsResponse { Entries = { _acls.Show(request.Name, request.Version) } });

    public override Task<LookupResponse> LookupAcl(LookupRequest request, ServerCallContext context)
        => Task.FromResult(_acls.Lookup(request.Name, request.Key, request.Method, request.IgnoreCase));

    public override Task<EditResponse> AddAclEntry(AddEntryRequest request, ServerCallContext context)
        => Task.FromResult(_acls.Add(request.Name, request.Key, "", request.Persist));

    public override Task<EditResponse> DeleteAclEntry(DeleteEntryRequest request, ServerCallContext context)
        => Task.FromResult(_acls.Delete(request.Name, request.Key, request.Persist));

    public override Task<EditResponse> ClearAcl(ClearRequest request, ServerCallContext context)
        => Task.FromResult(_acls.Clear(request.Name, request.Persist));

    public override Task<PrepareResponse> PrepareAcl(PrepareRequest request, ServerCallContext context)
        => Task.FromResult(new PrepareResponse { Version = _acls.Prepare(request.Name) });

    public override Task<EditResponse> AddAclEntryToVersion(AddEntryRequest request, ServerCallContext context)
        => Task.FromResult(_acls.AddToVersion(request.Name, request.Version, request.Key, ""));

    public override Task<EditResponse> CommitAcl(CommitRequest request, ServerCallContext context)
        => Task.FromResult(_acls.Commit(request.Name, request.Version, request.Persist));
}
