using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Runtime;

namespace HaLua.DataPlane.Cli;

/// <summary>
/// One <c>stats socket</c>: a unix socket path (with <c>mode</c>, <c>user</c>/<c>uid</c>,
/// <c>group</c>/<c>gid</c>) or a TCP address (<c>ipv4@</c>, <c>ipv6@</c>, or host:port), serving
/// HAProxy's runtime API at the socket's <c>level</c> (default <c>operator</c>, as HAProxy's).
/// Each connection is a <see cref="CliSession"/> on the thread pool (never on a stream's event loop).
/// </summary>
internal sealed partial class StatsSocket : IAsyncDisposable
{
    /// <summary>HAProxy's default <c>stats timeout</c>: an idle session is closed after it.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(10);

    private readonly Socket _listener;
    private readonly DataPlaneHost _host;
    private readonly CliLevel _level;
    private readonly string? _path;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _sessions = [];
    private Task? _accepting;

    private StatsSocket(Socket listener, DataPlaneHost host, CliLevel level, string? path, string description)
    {
        _listener = listener;
        _host = host;
        _level = level;
        _path = path;
        Description = description;
    }

    public string Description { get; }

    /// <summary>Binds every configured socket; the errors name the config line.</summary>
    public static (List<StatsSocket> Sockets, List<string> Errors) StartAll(IEnumerable<StatsSocketConfig> configs, DataPlaneHost host)
    {
        var sockets = new List<StatsSocket>();
        var errors = new List<string>();
        foreach (var config in configs)
        {
            try
            {
                var socket = Bind(config, host);
                socket._accepting = Task.Run(socket.AcceptLoopAsync);
                sockets.Add(socket);
                ProcessLog.Instance.Notice($"stats socket listening on {socket.Description} (level {CliLevels.Name(socket._level)})");
            }
            catch (Exception ex) when (ex is SocketException or IOException or UnauthorizedAccessException or FormatException or ArgumentException)
            {
                errors.Add($"{config.Location} : 'stats socket': cannot bind '{config.Address}': {ex.Message}");
            }
        }

        return (sockets, errors);
    }

    private static StatsSocket Bind(StatsSocketConfig config, DataPlaneHost host)
    {
        var level = CliLevels.Parse(config.Options.GetValueOrDefault("level", "operator"));
        string address = config.Address;
        if (TryTcpEndpoint(address, out var endpoint))
        {
            var tcp = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                tcp.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
                tcp.Bind(endpoint);
                tcp.Listen(128);
            }
            catch
            {
                tcp.Dispose();
                throw;
            }

            return new StatsSocket(tcp, host, level, null, tcp.LocalEndPoint!.ToString()!);
        }

        string path = address.StartsWith("unix@", StringComparison.Ordinal) ? address[5..] : address;
        if (File.Exists(path))
        {
            // A socket left by an earlier run (HAProxy replaces it too).
            File.Delete(path);
        }

        var unix = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            unix.Bind(new UnixDomainSocketEndPoint(path));
            unix.Listen(128);
            ApplyOwnership(path, config);
        }
        catch
        {
            unix.Dispose();
            throw;
        }

        return new StatsSocket(unix, host, level, path, path);
    }

    private static bool TryTcpEndpoint(string address, out IPEndPoint endpoint)
    {
        endpoint = new IPEndPoint(IPAddress.Loopback, 0);
        bool explicitTcp = address.StartsWith("ipv4@", StringComparison.Ordinal) || address.StartsWith("ipv6@", StringComparison.Ordinal);
        if (!explicitTcp && (address.StartsWith('/') || address.StartsWith("unix@", StringComparison.Ordinal) || !address.Contains(':', StringComparison.Ordinal)))
        {
            return false;
        }

        string text = explicitTcp ? address[5..] : address;
        if (!ConfigValues.SplitHostPort(text, out string host, out string? port) || port is null
            || !ConfigValues.TryParseInt(port, 0, 65535, out int p))
        {
            throw new FormatException($"'{address}' is not a unix socket path nor an address:port");
        }

        var ip = host.Length == 0 || host == "*" ? IPAddress.Any : IPAddress.Parse(host);
        endpoint = new IPEndPoint(ip, p);
        return true;
    }

    /// <summary>
    /// <c>mode</c> (octal permissions), <c>uid</c>/<c>user</c>, <c>gid</c>/<c>group</c> on the socket
    /// file. Changing the owner needs root (CAP_CHOWN): otherwise it is logged and the socket stays
    /// the process's, as HAProxy started by a user cannot give it away either.
    /// </summary>
    private static void ApplyOwnership(string path, StatsSocketConfig config)
    {
        var o = config.Options;
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        if (o.TryGetValue("mode", out string? mode))
        {
            File.SetUnixFileMode(path, (UnixFileMode)Convert.ToInt32(mode, 8));
        }

        int uid = -1, gid = -1;
        if (o.TryGetValue("uid", out string? uidText))
        {
            uid = int.Parse(uidText, CultureInfo.InvariantCulture);
        }
        else if (o.TryGetValue("user", out string? user))
        {
            uid = LookUp("/etc/passwd", user) ?? throw new ArgumentException($"unknown user '{user}'");
        }

        if (o.TryGetValue("gid", out string? gidText))
        {
            gid = int.Parse(gidText, CultureInfo.InvariantCulture);
        }
        else if (o.TryGetValue("group", out string? group))
        {
            gid = LookUp("/etc/group", group) ?? throw new ArgumentException($"unknown group '{group}'");
        }

        if ((uid >= 0 || gid >= 0) && Chown(path, uid, gid) != 0)
        {
            ProcessLog.Instance.Warning($"{config.Location} : 'stats socket': cannot change the owner of '{path}' to {uid}:{gid} (errno {Marshal.GetLastPInvokeError()}; only root can): it keeps the process's.");
        }
    }

    /// <summary>The id of a name in /etc/passwd or /etc/group (third field).</summary>
    private static int? LookUp(string file, string name)
    {
        foreach (var line in File.ReadLines(file))
        {
            var fields = line.Split(':');
            if (fields.Length > 2 && fields[0] == name && int.TryParse(fields[2], NumberStyles.None, CultureInfo.InvariantCulture, out int id))
            {
                return id;
            }
        }

        return null;
    }

    [LibraryImport("libc", EntryPoint = "chown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Chown(string path, int owner, int group);

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                if (_stop.IsCancellationRequested)
                {
                    return;
                }

                continue;
            }

            var session = Task.Run(() => ServeAsync(client));
            lock (_sessions)
            {
                _sessions.RemoveAll(t => t.IsCompleted);
                _sessions.Add(session);
            }
        }
    }

    private async Task ServeAsync(Socket client)
    {
        try
        {
            var session = new CliSession(_host, new SocketCliTransport(client), _level, IdleTimeout);
            await session.RunAsync(_stop.Token).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                client.Shutdown(SocketShutdown.Both);
            }
            catch (SocketException)
            {
                // the peer is gone
            }

            client.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Dispose();
        if (_accepting is not null)
        {
            await _accepting.ConfigureAwait(false);
        }

        Task[] sessions;
        lock (_sessions)
        {
            sessions = [.. _sessions];
        }

        await Task.WhenAll(sessions).ConfigureAwait(false);
        if (_path is not null)
        {
            try
            {
                File.Delete(_path);
            }
            catch (IOException)
            {
                // gone already
            }
        }

        _stop.Dispose();
    }
}
