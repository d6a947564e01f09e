using HaLua.Admin.V1;

namespace HaLua.ControlPlane;

/// <summary>
/// The data plane's runtime operations, as the admin API sees them. The halua process implements
/// this over its live state (the same operations Lua's Proxy/Server classes and the text CLI call);
/// the gRPC services only translate. A failed operation throws <see cref="AdminException"/>.
/// </summary>
public interface IAdminRuntime
{
    IReadOnlyList<Proxy> ListProxies();

    Proxy GetProxy(string name);

    Proxy PauseProxy(string name);

    Proxy ResumeProxy(string name);

    Proxy StopProxy(string name);

    int ShutdownBackupSessions(string proxy);

    IReadOnlyList<Server> ListServers(string? backend);

    Server GetServer(string backend, string server);

    Server SetWeight(string backend, string server, string weight);

    Server SetAddress(string backend, string server, string address, int port);

    Server SetAdminState(string backend, string server, AdminState state);

    Server SetHealth(string backend, string server, HealthAction action);

    Server SetAgent(string backend, string server, AgentAction action);

    int ShutdownSessions(string backend, string server);

    Server AddServer(AddServerRequest request);

    void DeleteServer(string backend, string server);

    /// <summary>Maps (<paramref name="maps"/>) or ACL files.</summary>
    IPatternAdmin Patterns(bool maps);

    ReloadResponse ReloadLua();

    LuaStatus GetLuaStatus();

    /// <summary>Runs a runtime CLI command, writing its output as it is produced. <paramref name="input"/> feeds commands that read.</summary>
    Task ExecuteCliAsync(string command, IAsyncEnumerable<ReadOnlyMemory<byte>>? input, Func<ReadOnlyMemory<byte>, Task> output, CancellationToken cancellationToken);

    ShowInfoResponse ShowInfo();

    /// <summary><c>show stat</c> rows: every proxy, or the proxy named (its frontend, backend and server rows).</summary>
    StatRows ShowStat(string? proxy, string? server = null);

    /// <summary>Runtime events from the call on (subscribed when it returns, not when first enumerated), until cancelled.</summary>
    IAsyncEnumerable<Event> WatchAsync(CancellationToken cancellationToken);
}

/// <summary>Map or ACL files: the operations of HAProxy's <c>show/add/set/del/clear/prepare/commit map|acl</c>.</summary>
public interface IPatternAdmin
{
    IReadOnlyList<PatternFile> List();

    IReadOnlyList<PatternEntry> Show(string name, long version);

    LookupResponse Lookup(string name, string key, string method, bool ignoreCase);

    EditResponse Set(string name, string key, string value, bool persist);

    EditResponse Add(string name, string key, string value, bool persist);

    EditResponse Delete(string name, string key, bool persist);

    EditResponse Clear(string name, bool persist);

    long Prepare(string name);

    EditResponse AddToVersion(string name, long version, string key, string value);

    EditResponse Commit(string name, long version, bool persist);
}
