using System.Globalization;
using System.Net;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Model;

namespace HaLua.DataPlane.Runtime;

/// <summary>Why <c>add server</c> / <c>del server</c> refused (the admin API's status code follows it).</summary>
internal enum ServerChangeError { None, NotFound, Exists, Invalid, Busy }

/// <summary>The outcome of <c>add server</c> / <c>del server</c>: the server, or why not, with HAProxy's message as its CLI prints it.</summary>
internal readonly record struct ServerChange(ServerState? Server, ServerChangeError Error, string Message);

/// <summary>
/// HAProxy 2.4+'s dynamic servers (<c>add server</c>, <c>del server</c>): the one operation behind
/// the runtime CLI and the admin API. An added server starts in maintenance (unless
/// <c>enabled</c>) with its checks, if any, disabled until <c>enable health</c>; it joins load
/// balancing, stats, Lua's <c>core.backends[..].servers</c> and the admin API's lists at once. A
/// server can only be deleted in maintenance and without streams.
/// </summary>
internal sealed partial class DataPlaneHost
{
    private readonly object _serversLock = new();

    /// <summary>Raised after a server was added (true) or deleted (false).</summary>
    public event Action<ServerState, bool>? ServerListChanged;

    /// <param name="args">The words after <c>BACKEND/SERVER</c>: <c>ADDR[:PORT]</c>, then server keywords.</param>
    public async ValueTask<ServerChange> AddServerAsync(string backend, string name, IReadOnlyList<string> args)
    {
        var px = Generation.Proxies.FirstOrDefault(p => p.Name == backend && p.Backend is not null);
        if (px?.Backend is not { } be)
        {
            return new(null, ServerChangeError.NotFound, "No such backend.");
        }

        if (args.Count == 0)
        {
            return new(null, ServerChangeError.Invalid, "'server' expects <name> and <addr>[:<port>] as arguments.\n");
        }

        if (!be.HasDynamicWeights)
        {
            return new(null, ServerChangeError.Invalid, "Backend must use a dynamic load balancing to support dynamic servers.\n");
        }

        if (ParseDynamicServer(name, args, out var endpoint) is not { } config)
        {
            return new(null, ServerChangeError.Invalid, DynamicServerError(name, args));
        }

        ServerState server;
        lock (_serversLock)
        {
            if (be.FindServer(name) is not null)
            {
                return new(null, ServerChangeError.Exists, "Already exists a server with the same name in backend.\n");
            }

            int id = be.Servers.Count == 0 ? 1 : be.Servers.Max(s => s.Id) + 1;
            server = new ServerState(config, id, be, endpoint!, Math.Max(1, Generation.Config.Global.NbThread)) { IsDynamic = true };
            // HAProxy: a dynamic server's checks wait for "enable health".
            server.CheckEnabled = false;
            be.SetServers([.. be.Servers, server]);
        }

        if (config.Check)
        {
            _health.Start([server]);
        }

        ProcessLog.Instance.Notice($"New server {backend}/{name} registered.");
        await NotifyServerListAsync(server, true).ConfigureAwait(false);
        return new(server, ServerChangeError.None, "New server registered.\n");
    }

    public async ValueTask<ServerChange> DeleteServerAsync(string backend, string name)
    {
        var px = Generation.Proxies.FirstOrDefault(p => p.Name == backend && p.Backend is not null);
        if (px?.Backend is not { } be)
        {
            return new(null, ServerChangeError.NotFound, "No such backend.");
        }

        ServerState? server;
        lock (_serversLock)
        {
            server = be.FindServer(name);
            if (server is null)
            {
                return new(null, ServerChangeError.NotFound, "No such server.");
            }

            if (server.Admin != ServerAdminState.Maint)
            {
                return new(server, ServerChangeError.Busy, "Only servers in maintenance mode can be deleted.");
            }

            if (server.Sessions > 0 || server.Streams.Count > 0)
            {
                return new(server, ServerChangeError.Busy, "Server still has connections attached to it, cannot remove it.");
            }

            server.IsDeleted = true;
            be.SetServers([.. be.Servers.Where(s => !ReferenceEquals(s, server))]);
        }

        server.IdleConnections.Dispose();
        ProcessLog.Instance.Notice($"Server {backend}/{name} deleted.");
        await NotifyServerListAsync(server, false).ConfigureAwait(false);
        return new(server, ServerChangeError.None, "Server deleted.");
    }

    /// <summary>Every Lua state of the running generation sees the change in its core.backends before the caller is answered.</summary>
    private async ValueTask NotifyServerListAsync(ServerState server, bool added)
    {
        foreach (var st in Generation.Lua.States)
        {
            await st.EnterAsync().ConfigureAwait(false);
            try
            {
                Lua.Classes.ProxyClass.PublishServer(st, server, added);
            }
            finally
            {
                st.Exit();
            }
        }

        ServerListChanged?.Invoke(server, added);
    }

    /// <summary>The keywords of HAProxy's <c>add server</c> that HaLua serves (the same meaning as on a <c>server</c> line).</summary>
    private static ServerConfig? ParseDynamicServer(string name, IReadOnlyList<string> args, out IPEndPoint? endpoint)
    {
        endpoint = null;
        if (!TryParseServerAddress(args[0], out var ep))
        {
            return null;
        }

        var s = new ServerConfig(name, ep.Address.ToString(), ep.Port, new SourceLocation("cli", 0)) { Disabled = true };
        for (int i = 1; i < args.Count; i++)
        {
            string opt = args[i];
            string? value = i + 1 < args.Count ? args[i + 1] : null;
            switch (opt)
            {
                case "check":
                    s = s with { Check = true };
                    continue;
                case "no-check":
                    s = s with { Check = false };
                    continue;
                case "backup":
                    s = s with { Backup = true };
                    continue;
                case "disabled":
                    s = s with { Disabled = true };
                    continue;
                case "enabled":
                    s = s with { Disabled = false };
                    continue;
            }

            i++;
            if (value is null)
            {
                return null;
            }

            switch (opt)
            {
                case "weight" when ConfigValues.TryParseInt(value, 0, 256, out int w):
                    s = s with { Weight = w };
                    break;
                case "maxconn" when ConfigValues.TryParseInt(value, 0, int.MaxValue, out int mc):
                    s = s with { MaxConn = mc };
                    break;
                case "rise" when ConfigValues.TryParseInt(value, 1, 1_000_000, out int rise):
                    s = s with { Rise = rise };
                    break;
                case "fall" when ConfigValues.TryParseInt(value, 1, 1_000_000, out int fall):
                    s = s with { Fall = fall };
                    break;
                case "inter" when ConfigValues.TryParseTime(value, out var inter) && inter > TimeSpan.Zero:
                    s = s with { Inter = inter };
                    break;
                case "port" when ConfigValues.TryParseInt(value, 1, 65535, out int cp):
                    s = s with { CheckPort = cp };
                    break;
                case "addr" when IPAddress.TryParse(value, out var ca):
                    s = s with { CheckAddress = ca };
                    break;
                default:
                    return null;
            }
        }

        endpoint = ep;
        return s;
    }

    /// <summary>HAProxy's message for what <see cref="ParseDynamicServer"/> refused.</summary>
    private static string DynamicServerError(string name, IReadOnlyList<string> args)
    {
        if (!TryParseServerAddress(args[0], out _))
        {
            return $"could not parse address '{args[0]}' (HaLua's dynamic servers take a literal IPv4 or IPv6 address and a port).\n";
        }

        for (int i = 1; i < args.Count; i++)
        {
            string opt = args[i];
            if (opt is "check" or "no-check" or "backup" or "disabled" or "enabled")
            {
                continue;
            }

            if (opt is not ("weight" or "maxconn" or "rise" or "fall" or "inter" or "port" or "addr"))
            {
                return $"unknown keyword '{opt}'.\n";
            }

            if (i + 1 >= args.Count)
            {
                return $"'{opt}' expects an argument.\n";
            }

            string value = args[++i];
            if (opt == "weight" && !ConfigValues.TryParseInt(value, 0, 256, out _))
            {
                return string.Create(CultureInfo.InvariantCulture, $"weight of server {name} is not within 0 and 256 ({value})..\n");
            }
        }

        return "invalid value in 'add server' arguments.\n";
    }

    /// <summary><c>ADDR:PORT</c>, <c>[IPV6]:PORT</c>, with an optional <c>ipv4@</c>/<c>ipv6@</c> prefix; literal addresses only (HAProxy's dynamic servers do not resolve names).</summary>
    internal static bool TryParseServerAddress(string text, out IPEndPoint endpoint)
    {
        endpoint = new IPEndPoint(IPAddress.None, 0);
        if (text.StartsWith("ipv4@", StringComparison.Ordinal) || text.StartsWith("ipv6@", StringComparison.Ordinal))
        {
            text = text[5..];
        }

        if (!ConfigValues.SplitHostPort(text, out string host, out string? portText) || portText is null
            || !ConfigValues.TryParseInt(portText, 1, 65535, out int port) || !IPAddress.TryParse(host, out var ip))
        {
            return false;
        }

        endpoint = new IPEndPoint(ip, port);
        return true;
    }
}
