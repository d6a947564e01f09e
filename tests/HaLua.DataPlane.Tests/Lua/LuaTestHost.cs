using System.Net;
using System.Net.Sockets;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Lua;

namespace HaLua.DataPlane.Tests.Lua;

/// <summary>A Lua engine over a script written to a temp file, for engine-level tests.</summary>
internal sealed class LuaTestHost : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("halua-lua-").FullName;

    public LuaTestHost(string script, TimeSpan? serviceTimeout = null, int forcedYield = 10_000, long maxMemory = 0, int workers = 1, bool perThread = false)
    {
        ScriptPath = Path.Combine(_dir, "test.lua");
        File.WriteAllText(ScriptPath, script);
        Engine = new LuaEngine(new LuaSettings(TimeSpan.FromSeconds(4), TimeSpan.Zero, serviceTimeout ?? TimeSpan.FromSeconds(4), forcedYield, maxMemory, workers));
        Errors = Engine.Load([new LuaLoadConfig(ScriptPath, perThread, [], new SourceLocation("test.cfg", 2))], []);
    }

    public string ScriptPath { get; }

    public LuaEngine Engine { get; }

    public List<string> Errors { get; }

    /// <summary>Runs a TCP service on one end of a loopback connection; returns the client end.</summary>
    public async Task<(Socket Client, Task<LuaOutcome> Service)> ConnectServiceAsync(string name, int worker = 0)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        var server = await listener.AcceptAsync();
        var fn = Engine.Services[name].For(worker);
        var connection = HaLua.DataPlane.Io.Connection.Accepted(server, worker);
        var task = Task.Run(async () =>
        {
            try
            {
                return await HaLua.DataPlane.Lua.Applets.TcpServiceRunner.RunAsync(fn, connection, Engine.Settings.ServiceTimeout, null, CancellationToken.None);
            }
            finally
            {
                connection.Close(abort: false);
            }
        });
        return (client, task);
    }

    public static async Task<string> ReadAllAsync(Socket s)
    {
        var ms = new MemoryStream();
        var buf = new byte[4096];
        int n;
        while ((n = await s.ReceiveAsync(buf)) > 0)
        {
            ms.Write(buf, 0, n);
        }

        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }

    public void Dispose()
    {
        Engine.Dispose();
        Directory.Delete(_dir, true);
    }
}
