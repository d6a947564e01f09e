using Grpc.Core;
using HaLua.Admin.V1;

namespace HaLua.ControlPlane.Services;

internal sealed class StatsApi(IAdminRuntime runtime) : StatsService.StatsServiceBase
{
    public override Task<ShowInfoResponse> ShowInfo(ShowInfoRequest request, ServerCallContext context) => Task.FromResult(runtime.ShowInfo());

    public override Task<StatRows> ShowStat(ShowStatRequest request, ServerCallContext context)
        => Task.FromResult(runtime.ShowStat(request.Proxy.Length == 0 ? null : request.Proxy));

    public override async Task Watch(WatchRequest request, IServerStreamWriter<Event> responseStream, ServerCallContext context)
    {
        // Subscribed before the headers go out: a client that waits for them sees every later change.
        var events = runtime.WatchAsync(context.CancellationToken);
        await context.WriteResponseHeadersAsync(new Metadata()).ConfigureAwait(false);
        await foreach (var e in events.ConfigureAwait(false))
        {
            await responseStream.WriteAsync(e, context.CancellationToken).ConfigureAwait(false);
        }
    }
}
