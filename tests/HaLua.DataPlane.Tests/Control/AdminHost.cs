using HaLua.DataPlane.Tests.EndToEnd;
using HaLua.Sdk;

namespace HaLua.DataPlane.Tests.Control;

/// <summary>A running halua with its admin API on {PORT7}, and an SDK client for it.</summary>
internal sealed class AdminHost : IAsyncDisposable
{
    private AdminHost(HaluaProcess process, HaLuaAdminClient client)
    {
        Process = process;
        Client = client;
    }

    public HaluaProcess Process { get; }

    public HaLuaAdminClient Client { get; }

    public int[] Ports => Process.Ports;

    public string AdminAddress => $"127.0.0.1:{Process.Ports[7]}";

    /// <param name="config">A configuration whose global section has <c>admin-api 127.0.0.1:{PORT7} ...</c>.</param>
    public static async Task<AdminHost> StartAsync(string config, IReadOnlyDictionary<string, string>? files = null, Func<string, HaLuaAdminClientOptions>? options = null)
    {
        var process = await HaluaProcess.StartReadyAsync(config, files, ready: "admin API listening");

        string address = $"127.0.0.1:{process.Ports[7]}";
        return new AdminHost(process, new HaLuaAdminClient(options?.Invoke(address) ?? new HaLuaAdminClientOptions { Address = address }));
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Process.DisposeAsync();
    }
}
