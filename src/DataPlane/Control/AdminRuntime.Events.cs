using System.Threading.Channels;
using Google.Protobuf.WellKnownTypes;
using HaLua.Admin.V1;
using HaLua.DataPlane.Model;

namespace HaLua.DataPlane.Control;

internal sealed partial class AdminRuntime
{
    private readonly Lock _watchersLock = new();
    private Channel<Event>[] _watchers = [];

    public IAsyncEnumerable<Event> WatchAsync(CancellationToken cancellationToken)
    {
        // Bounded: a watcher that does not read loses its oldest events, never the data plane's memory.
        var channel = Channel.CreateBounded<Event>(new BoundedChannelOptions(4096) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        lock (_watchersLock)
        {
            _watchers = [.. _watchers, channel];
        }

        cancellationToken.Register(() =>
        {
            lock (_watchersLock)
            {
                _watchers = [.. _watchers.Where(c => c != channel)];
            }

            channel.Writer.TryComplete();
        });
        return channel.Reader.ReadAllAsync(cancellationToken);
    }

    private void SubscribeEvents()
    {
        // add server / del server, from the CLI or this API.
        _host.ServerListChanged += (server, added) => Publish("server", $"{server.Backend.Name}/{server.Name}", "server", added ? "" : "present", added ? "present" : "", added ? "added at runtime" : "deleted at runtime");
        _host.LuaReloaded += generation => Publish("lua", generation.ToString(System.Globalization.CultureInfo.InvariantCulture), "reload", (generation - 1).ToString(System.Globalization.CultureInfo.InvariantCulture), generation.ToString(System.Globalization.CultureInfo.InvariantCulture), "Lua reloaded");
        foreach (var proxy in Generation.Proxies)
        {
            if (proxy.Backend is { } backend)
            {
                backend.ServerChanged += OnServerChanged;
            }

            if (proxy.IsFrontend)
            {
                proxy.StateChanged += (px, old, now, updater) => Publish("proxy", px.Name, "state", StateName(old), StateName(now), $"changed by {updater}");
            }
        }
    }

    private void OnServerChanged(ServerStateChange change)
        => Publish("server", $"{change.Server.Backend.Name}/{change.Server.Name}", change.What, change.Old, change.New, change.Reason);

    internal void Publish(string kind, string subject, string what, string oldValue, string newValue, string reason)
    {
        var watchers = Volatile.Read(ref _watchers);
        if (watchers.Length == 0)
        {
            return;
        }

        var e = new Event
        {
            Time = Timestamp.FromDateTime(DateTime.UtcNow),
            Kind = kind,
            Subject = subject,
            What = what,
            OldValue = oldValue,
            NewValue = newValue,
            Reason = reason,
        };
        foreach (var w in watchers)
        {
            w.Writer.TryWrite(e);
        }
    }
}
