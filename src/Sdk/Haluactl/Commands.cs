using System.Globalization;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using HaLua.Admin.V1;

namespace HaLua.Sdk.Haluactl;

/// <summary>The commands: each runs on every instance of the fleet and prints its lines per instance.</summary>
internal static class Commands
{
    private static readonly JsonFormatter Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    public static async Task<int> RunAsync(HaLuaAdminFleet fleet, string[] args, CancellationToken cancellationToken)
    {
        string group = args[0];
        string verb = args.Length > 1 ? args[1] : "";
        string Arg(int n, string what) => args.Length > n ? args[n] : throw new UsageException($"'{group} {verb}' needs {what}");

        if (group == "watch")
        {
            return await WatchAsync(fleet, cancellationToken);
        }

        Func<HaLuaAdminClient, CancellationToken, Task<IEnumerable<string>>> op = (group, verb) switch
        {
            ("proxy", "list") => async (c, ct) => (await c.ListProxiesAsync(ct)).Select(p =>
                $"{p.Name} {p.Mode} {(p.Frontend && p.Backend ? "listen" : p.Frontend ? "frontend" : "backend")} {p.State.ToString().ToUpperInvariant()} scur={p.CurrentSessions} stot={p.TotalSessions}"),
            ("proxy", "get") => async (c, ct) => [Json.Format(await c.GetProxyAsync(Arg(2, "a proxy name"), ct))],
            ("proxy", "pause") => async (c, ct) => [Json.Format(await c.PauseProxyAsync(Arg(2, "a proxy name"), ct))],
            ("proxy", "resume") => async (c, ct) => [Json.Format(await c.ResumeProxyAsync(Arg(2, "a proxy name"), ct))],
            ("proxy", "stop") => async (c, ct) => [Json.Format(await c.StopProxyAsync(Arg(2, "a proxy name"), ct))],
            ("proxy", "shut-backup") => async (c, ct) => [$"closed {await c.ShutdownBackupSessionsAsync(Arg(2, "a proxy name"), ct)} streams"],
            ("proxy", "stats") => async (c, ct) => Csv(await c.GetProxyStatsAsync(Arg(2, "a proxy name"), ct)),

            ("server", "list") => async (c, ct) => (await c.ListServersAsync(args.Length > 2 ? args[2] : null, ct)).Select(ServerLine),
            ("server", "get") => async (c, ct) => [Json.Format(await Server(c, Arg(2, "BACKEND/SERVER"), (b, s) => c.GetServerAsync(b, s, ct)))],
            ("server", "stats") => async (c, ct) => Csv(await Server(c, Arg(2, "BACKEND/SERVER"), (b, s) => c.GetServerStatsAsync(b, s, ct))),
            ("server", "set-weight") => async (c, ct) => [ServerLine(await Server(c, Arg(2, "BACKEND/SERVER"), (b, s) => c.SetWeightAsync(b, s, Arg(3, "a weight"), ct)))],
            ("server", "set-addr") => async (c, ct) => [ServerLine(await Server(c, Arg(2, "BACKEND/SERVER"), (b, s) => c.SetAddressAsync(b, s, Arg(3, "an address"), args.Length > 4 ? Int(args[4]) : 0, ct)))],
            ("server", "set-state") => async (c, ct) => [ServerLine(await Server(c, Arg(2, "BACKEND/SERVER"), (b, s) => c.SetAdminStateAsync(b, s, AdminStateOf(Arg(3, "ready, drain or maint")), ct)))],
            ("server", "health") => async (c, ct) => [ServerLine(await Server(c, Arg(2, "BACKEND/SERVER"), (b, s) => c.SetHealthAsync(b, s, HealthOf(Arg(3, "enable, disable, up, nolb or down")), ct)))],
            ("server", "agent") => async (c, ct) => [ServerLine(await Server(c, Arg(2, "BACKEND/SERVER"), (b, s) => c.SetAgentAsync(b, s, AgentOf(Arg(3, "enable, disable, up or down")), ct)))],
            ("server", "shutdown-sessions") => async (c, ct) => [$"closed {await Server(c, Arg(2, "BACKEND/SERVER"), (b, s) => c.ShutdownSessionsAsync(b, s, ct))} streams"],
            ("server", "add") => async (c, ct) => [ServerLine(await c.AddServerAsync(AddRequest(args), ct))],
            ("server", "del") => async (c, ct) =>
            {
                await Server(c, Arg(2, "BACKEND/SERVER"), async (b, s) =>
                {
                    await c.DeleteServerAsync(b, s, ct);
                    return 0;
                });
                return ["deleted"];
            },

            ("map", _) or ("acl", _) => Patterns(group == "map", verb, args, Arg),

            ("lua", "reload") => async (c, ct) =>
            {
                var r = await c.Lua.ReloadAsync(ReloadRequestFrom(args.Length > 2 ? args[2] : null), cancellationToken: ct);
                return [$"generation {r.Generation}", .. r.Files.Select(f => $"{f.Path} {f.Origin} sha256:{f.Sha256}")];
            },
            ("lua", "status") => async (c, ct) => [Json.Format(await c.GetLuaStatusAsync(ct))],

            ("cli", _) => async (c, ct) => [(await c.ExecuteAsync(string.Join(' ', args[1..]), ct)).TrimEnd('\n')],
            ("info", _) => async (c, ct) => (await c.ShowInfoAsync(ct)).Select(f => $"{f.Name}: {f.Value}"),
            ("stat", _) => async (c, ct) => Csv(await c.ShowStatAsync(args.Length > 1 ? args[1] : null, ct)),
            _ => throw new UsageException($"unknown command '{string.Join(' ', args.Take(2))}'"),
        };

        var results = await fleet.RunAsync(op, cancellationToken);
        bool prefix = results.Count > 1;
        int failed = 0;
        foreach (var r in results)
        {
            string p = prefix ? $"[{r.Address}] " : "";
            if (r.Error is { } error)
            {
                failed++;
                Console.Error.WriteLine($"{p}error: {Describe(error)}");
                continue;
            }

            foreach (var line in r.Value!)
            {
                foreach (var l in line.Split('\n'))
                {
                    Console.WriteLine(p + l);
                }
            }
        }

        return failed == 0 ? 0 : 1;
    }

    private static Func<HaLuaAdminClient, CancellationToken, Task<IEnumerable<string>>> Patterns(bool map, string verb, string[] args, Func<int, string, string> arg)
    {
        string what = map ? "a map file" : "an ACL file";
        return verb switch
        {
            "list" => async (c, ct) => (map ? await c.ListMapsAsync(ct) : await c.ListAclsAsync(ct)).Select(f => $"{f.Name} entries={f.Entries} version={f.Version}"),
            "show" => async (c, ct) =>
            {
                long version = args.Length > 3 ? Int(args[3]) : 0;
                var entries = map ? await c.ShowMapAsync(arg(2, what), version, ct) : await c.ShowAclAsync(arg(2, what), version, ct);
                return entries.Select(e => map ? $"{e.Id} {e.Key} {e.Value}" : $"{e.Id} {e.Key}");
            },
            "lookup" => async (c, ct) =>
            {
                string method = args.Length > 4 ? args[4] : "str";
                var r = map ? await c.LookupMapAsync(arg(2, what), arg(3, "a key"), method, false, ct) : await c.LookupAclAsync(arg(2, what), arg(3, "a value"), method, false, ct);
                return [r.Found ? (map ? $"match key={r.Key} value={r.Value}" : $"match pattern={r.Key}") : "no match"];
            },
            "set" when map => async (c, ct) => [Edit(await c.SetMapAsync(arg(2, what), arg(3, "a key"), arg(4, "a value"), false, ct))],
            "add" => async (c, ct) => [Edit(map ? await c.AddMapAsync(arg(2, what), arg(3, "a key"), arg(4, "a value"), false, ct) : await c.AddAclAsync(arg(2, what), arg(3, "a pattern"), false, ct))],
            "del" => async (c, ct) => [Edit(map ? await c.DeleteMapAsync(arg(2, what), arg(3, "a key"), false, ct) : await c.DeleteAclAsync(arg(2, what), arg(3, "a pattern"), false, ct))],
            "clear" => async (c, ct) => [Edit(map ? await c.ClearMapAsync(arg(2, what), false, ct) : await c.ClearAclAsync(arg(2, what), false, ct))],
            "replace" => async (c, ct) =>
            {
                string name = arg(2, what);
                var lines = File.ReadAllLines(arg(3, "a file of entries")).Select(l => l.Trim()).Where(l => l.Length > 0 && l[0] != '#');
                long version = map ? await c.PrepareMapAsync(name, ct) : await c.PrepareAclAsync(name, ct);
                foreach (var line in lines)
                {
                    if (map)
                    {
                        int sp = line.IndexOfAny([' ', '\t']);
                        await c.AddMapToVersionAsync(name, version, sp < 0 ? line : line[..sp], sp < 0 ? "" : line[(sp + 1)..].TrimStart(), ct);
                    }
                    else
                    {
                        await c.AddAclToVersionAsync(name, version, line, ct);
                    }
                }

                return [Edit(map ? await c.CommitMapAsync(name, version, false, ct) : await c.CommitAclAsync(name, version, false, ct))];
            },
            _ => throw new UsageException($"unknown command '{(map ? "map" : "acl")} {verb}'"),
        };
    }

    private static async Task<int> WatchAsync(HaLuaAdminFleet fleet, CancellationToken cancellationToken)
    {
        bool prefix = fleet.Clients.Count > 1;
        var tasks = fleet.Clients.Select(async c =>
        {
            string p = prefix ? $"[{c.Address}] " : "";
            try
            {
                await foreach (var e in await c.WatchAsync(cancellationToken))
                {
                    Console.WriteLine($"{p}{e.Time.ToDateTime():O} {e.Kind} {e.Subject} {e.What} {e.OldValue} -> {e.NewValue} ({e.Reason})");
                }

                return 0;
            }
            catch (Exception) when (cancellationToken.IsCancellationRequested)
            {
                return 0;
            }
            catch (RpcException ex)
            {
                Console.Error.WriteLine($"{p}error: {Describe(ex)}");
                return 1;
            }
        });
        return (await Task.WhenAll(tasks)).Max();
    }

    private static ReloadRequest ReloadRequestFrom(string? dir)
    {
        var request = new ReloadRequest();
        if (dir is not null)
        {
            foreach (var file in Directory.GetFiles(dir, "*.lua"))
            {
                request.Sources[Path.GetFileName(file)] = ByteString.CopyFrom(File.ReadAllBytes(file));
            }
        }

        return request;
    }

    private static Task<T> Server<T>(HaLuaAdminClient c, string path, Func<string, string, Task<T>> op)
    {
        int slash = path.IndexOf('/', StringComparison.Ordinal);
        return slash <= 0 || slash == path.Length - 1
            ? throw new UsageException($"'{path}' is not BACKEND/SERVER")
            : op(path[..slash], path[(slash + 1)..]);
    }

    private static AddServerRequest AddRequest(string[] args)
    {
        if (args.Length < 4)
        {
            throw new UsageException("'server add' needs BACKEND/SERVER and ADDR:PORT");
        }

        int slash = args[2].IndexOf('/', StringComparison.Ordinal);
        int colon = args[3].LastIndexOf(':');
        if (slash <= 0 || colon <= 0)
        {
            throw new UsageException("'server add' needs BACKEND/SERVER and ADDR:PORT");
        }

        var r = new AddServerRequest
        {
            Backend = args[2][..slash],
            Server = args[2][(slash + 1)..],
            Address = args[3][..colon].Trim('[', ']'),
            Port = Int(args[3][(colon + 1)..]),
        };
        for (int i = 4; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "weight" when i + 1 < args.Length:
                    r.Weight = Int(args[++i]);
                    break;
                case "backup":
                    r.Backup = true;
                    break;
                case "check":
                    r.Check = true;
                    break;
                case "enabled":
                    r.Enabled = true;
                    break;
                default:
                    throw new UsageException($"unknown 'server add' option '{args[i]}'");
            }
        }

        return r;
    }

    private static IEnumerable<string> Csv(StatRows rows)
        => [$"# {string.Join(',', rows.Fields)}", .. rows.Rows.Select(r => string.Join(',', r.Values))];

    private static string ServerLine(Server s)
        => $"{s.Backend}/{s.Name} {(s.Address.Contains(':', StringComparison.Ordinal) ? $"[{s.Address}]" : s.Address)}:{s.Port} weight={s.Weight} status={s.Status}{(s.Backup ? " backup" : "")}";

    private static string Edit(EditResponse r) => $"done: {r.Changed} changed, {r.Entries} entries";

    private static int Int(string s)
        => int.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int n) ? n : throw new UsageException($"'{s}' is not a number");

    private static AdminState AdminStateOf(string s) => s switch
    {
        "ready" => AdminState.Ready,
        "drain" => AdminState.Drain,
        "maint" => AdminState.Maint,
        _ => throw new UsageException($"state '{s}': expected ready, drain or maint"),
    };

    private static HealthAction HealthOf(string s) => s switch
    {
        "enable" => HealthAction.Enable,
        "disable" => HealthAction.Disable,
        "up" => HealthAction.ForceUp,
        "nolb" => HealthAction.ForceNolb,
        "down" => HealthAction.ForceDown,
        _ => throw new UsageException($"health '{s}': expected enable, disable, up, nolb or down"),
    };

    private static AgentAction AgentOf(string s) => s switch
    {
        "enable" => AgentAction.Enable,
        "disable" => AgentAction.Disable,
        "up" => AgentAction.ForceUp,
        "down" => AgentAction.ForceDown,
        _ => throw new UsageException($"agent '{s}': expected enable, disable, up or down"),
    };

    private static string Describe(Exception e) => e switch
    {
        RpcException r => $"{r.StatusCode}: {r.Status.Detail}",
        _ => e.Message,
    };
}
