using System.Text;
using HaLua.DataPlane.Tests.Control;
using HaLua.DataPlane.Tests.EndToEnd;

namespace HaLua.DataPlane.Tests.Cli;

/// <summary>The runtime text API on the stats socket end to end: a real halua, raw socket clients, HAProxy 2.6's answers.</summary>
public class StatsSocketTests
{
    private static async Task<Dictionary<string, int>> SplitAsync(int port, int connections)
    {
        var counts = new Dictionary<string, int>();
        for (int i = 0; i < connections; i++)
        {
            string name = await HaluaProcess.ExchangeAsync(port);
            counts[name] = counts.GetValueOrDefault(name) + 1;
        }

        return counts;
    }

    private static async Task<string> HttpAsync(int port, string host, string user = "bob")
    {
        using var c = await RawHttpClient.ConnectAsync(port);
        await c.SendAsync($"GET / HTTP/1.1\r\nHost: {host}\r\nX-User: {user}\r\n\r\n");
        var (_, _, body) = await c.ReadResponseAsync();
        return Encoding.Latin1.GetString(body);
    }

    [Fact]
    public async Task Help_ListsTheCommandsAndLuaUsagesSorted_ThenHelpPromptQuit()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await CliHost.StartAsync(a, b);
        string help = await CliHost.RunAsync(h, "help");
        var lines = help.Split('\n');
        Assert.Equal("The following commands are valid at this level:", lines[0]);
        Assert.EndsWith("  quit                                    : disconnect\n\n", help);
        Assert.Contains("  get weight <bk>/<srv>                   : report a server's current weight\n", help);
        Assert.Contains("  hello world [args]: says hello\n", help);
        Assert.Contains("  fail: raises an error\n", help);
        var body = lines.Skip(1).TakeWhile(l => !l.StartsWith("  help ", StringComparison.Ordinal)).ToList();
        Assert.Equal(body.Order(StringComparer.Ordinal), body);
        Assert.Equal(["  help [<command>]                        : list matching or all commands", "  prompt                                  : toggle interactive mode with prompt", "  quit                                    : disconnect", "", ""], lines[^5..]);

        string filtered = await CliHost.RunAsync(h, "help get");
        Assert.Equal(
            "The following commands are valid at this level:\n"
            + "  get acl <acl> <value>                   : report the patterns matching a sample for an ACL\n"
            + "  get map <acl> <value>                   : report the keys and values matching a sample for a map\n"
            + "  get weight <bk>/<srv>                   : report a server's current weight\n"
            + "  help [<command>]                        : list matching or all commands\n"
            + "  prompt                                  : toggle interactive mode with prompt\n"
            + "  quit                                    : disconnect\n\n",
            filtered);
    }

    [Fact]
    public async Task NonInteractive_SemicolonSeparatedCommands_EachAnsweredThenClosed_OnTcpAndUnix()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await CliHost.StartAsync(a, b);
        Assert.Equal("1 (initial 1)\n\n1 (initial 1)\n\n", await CliClient.RunAsync(CliHost.Tcp(h), "get weight app/a;get weight app/b\n"));
        Assert.Equal("1 (initial 1)\n\n", await CliClient.RunAsync(CliHost.Admin(h), "  get   weight\tapp/a \r\n"));
        // Lines already sent are served; an escaped ';' is part of the word.
        Assert.Equal("1 (initial 1)\n\nNo such server.\n\n", await CliClient.RunAsync(CliHost.Admin(h), "get weight app/a\nget weight app/a\\;x\n"));
    }

    [Fact]
    public async Task Prompt_EachAnswerEndsWithEmptyLineAndPrompt_QuitCloses()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await CliHost.StartAsync(a, b);
        await using var c = await CliClient.ConnectAsync(CliHost.Admin(h));
        await c.SendAsync("prompt\n");
        Assert.Equal("\n> ", await c.ReadUntilAsync());
        await c.SendAsync("get weight app/a\n");
        Assert.Equal("1 (initial 1)\n\n> ", await c.ReadUntilAsync());
        await c.SendAsync("set weight app/a 3;get weight app/a\n");
        Assert.Equal("\n> ", await c.ReadUntilAsync());
        Assert.Equal("3 (initial 1)\n\n> ", await c.ReadUntilAsync());
        await c.SendAsync("quit\n");
        Assert.Equal("", await c.ReadToEndAsync());

        // A second "prompt" leaves interactive mode: the lines already sent are answered, then the session ends.
        Assert.Equal("\n> \n3 (initial 1)\n\n", await CliClient.RunAsync(CliHost.Admin(h), "prompt\nprompt\nget weight app/a\n"));
    }

    [Fact]
    public async Task UnknownCommand_ProposesTheClosestCommands_EmptyOneListsAll()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await CliHost.StartAsync(a, b);
        string answer = await CliHost.RunAsync(h, "get wieght app/a");
        Assert.StartsWith("Unknown command, but maybe one of the following ones is a better match:\n", answer);
        Assert.Contains("  get weight <bk>/<srv>", answer);
        Assert.DoesNotContain("shutdown frontend", answer);
        Assert.EndsWith("  quit                                    : disconnect\n\n", answer);

        string empty = await CliClient.RunAsync(CliHost.Admin(h), "get weight app/a;;get weight app/b\n");
        Assert.StartsWith("1 (initial 1)\n\nUnknown command. Please enter one of the following commands only:\n  add acl ", empty);
        Assert.EndsWith("disconnect\n\n1 (initial 1)\n\n", empty);
    }

    [Fact]
    public async Task Levels_UserChangesNothing_OperatorChangesMaps_AdminEverything()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await CliHost.StartAsync(a, b);
        string map = Path.Combine(h.Process.Directory, "hosts.map");
        var user = CliHost.User(h);
        var oper = CliHost.Operator(h);

        Assert.Equal("user\n\n", await CliClient.RunAsync(user, "show cli level\n"));
        Assert.Equal("operator\n\n", await CliClient.RunAsync(oper, "show cli level\n"));
        Assert.Equal("admin\n\n", await CliClient.RunAsync(CliHost.Tcp(h), "show cli level\n"));

        // user: reads, never changes.
        Assert.Equal("1 (initial 1)\n\n", await CliClient.RunAsync(user, "get weight app/a\n"));
        Assert.StartsWith("Name: HaLua\n", await CliClient.RunAsync(user, "show info\n"));
        foreach (var command in new[] { "set weight app/a 5", "set server app/a state maint", "disable frontend fe", "shutdown sessions server app/a", $"add map {map} x y", $"del map {map} a.example", $"prepare map {map}", "add server app/c 127.0.0.1:1", "operator" })
        {
            Assert.Equal("Permission denied\n\n", await CliClient.RunAsync(user, command + "\n"));
        }

        Assert.Equal("route=one", await HttpAsync(h.Ports[1], "a.example"));

        // operator: maps and ACL files, not servers.
        Assert.Equal("\n", await CliClient.RunAsync(oper, $"set map {map} a.example uno\n"));
        Assert.Equal("route=uno", await HttpAsync(h.Ports[1], "a.example"));
        Assert.Equal("Permission denied\n\n", await CliClient.RunAsync(oper, "set weight app/a 5\n"));
        Assert.Equal("\nPermission denied\n\n", await CliClient.RunAsync(oper, "user;set map " + map + " a.example one\n"));

        // admin, lowered for the rest of its session.
        Assert.Equal("\n1 (initial 1)\n\n", await CliHost.RunAsync(h, "set weight app/a 1;get weight app/a"));
        Assert.Equal("\nPermission denied\n\n", await CliHost.RunAsync(h, "operator;set weight app/a 2"));
        Assert.Equal("1 (initial 1)\n\n", await CliHost.RunAsync(h, "get weight app/a"));

        // Lua commands run at every level, as in HAProxy.
        Assert.Equal("hi hello world nil nil nil\n\n", await CliClient.RunAsync(user, "hello world\n"));
    }

    [Fact]
    public async Task ServerCommands_WeightStateHealthAgentAddress_AnswerAsHaproxyAndChangeTraffic()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var c = new TestServer("C");
        await using var h = await CliHost.StartAsync(a, b);
        int fe = h.Ports[0];

        Assert.Equal("Require 'backend/server'.\n\n", await CliHost.RunAsync(h, "get weight"));
        Assert.Equal("No such backend.\n\n", await CliHost.RunAsync(h, "get weight nope/a"));
        Assert.Equal("No such server.\n\n", await CliHost.RunAsync(h, "get weight app/nope"));
        Assert.Equal("Empty weight string empty or preceded by garbage\n", await CliHost.RunAsync(h, "set weight app/a abc"));
        Assert.Equal("Trailing garbage in weight string\n", await CliHost.RunAsync(h, "set weight app/a 5x"));
        Assert.Equal("Absolute weight can only be between 0 and 256 inclusive.\n\n", await CliHost.RunAsync(h, "set weight app/a 300"));
        Assert.Equal("Require <weight> or <weight%>.\n\n", await CliHost.RunAsync(h, "set weight app/a"));

        Assert.Equal("\n", await CliHost.RunAsync(h, "set weight app/a 0"));
        Assert.Equal(new Dictionary<string, int> { ["B"] = 4 }, await SplitAsync(fe, 4));
        Assert.Equal("\n1 (initial 1)\n\n", await CliHost.RunAsync(h, "set server app/a weight 100%;get weight app/a"));

        Assert.Equal("\n", await CliHost.RunAsync(h, "set server app/b state maint"));
        Assert.Equal(new Dictionary<string, int> { ["A"] = 4 }, await SplitAsync(fe, 4));
        Assert.Equal("\n", await CliHost.RunAsync(h, "set server app/b state ready"));
        Assert.Equal("'set server <srv> state' expects 'ready', 'drain' and 'maint'.\n\n", await CliHost.RunAsync(h, "set server app/b state foo"));
        Assert.Equal("\n", await CliHost.RunAsync(h, "disable server app/a"));
        Assert.Equal(new Dictionary<string, int> { ["B"] = 2 }, await SplitAsync(fe, 2));
        Assert.Equal("\n", await CliHost.RunAsync(h, "enable server app/a"));

        Assert.Equal("\n", await CliHost.RunAsync(h, "set server app/a health down"));
        Assert.Equal(new Dictionary<string, int> { ["B"] = 2 }, await SplitAsync(fe, 2));
        Assert.Equal("\n", await CliHost.RunAsync(h, "set server app/a health up"));
        Assert.Equal("'set server <srv> health' expects 'up', 'stopping', or 'down'.\n\n", await CliHost.RunAsync(h, "set server app/a health foo"));
        Assert.Equal("Health check was not configured on this server, cannot enable.\n\n", await CliHost.RunAsync(h, "enable health app/a"));
        Assert.Equal("\n\n", await CliHost.RunAsync(h, "disable health app/b;enable health app/b"));
        Assert.Equal("Agent was not configured on this server, cannot enable.\n\n", await CliHost.RunAsync(h, "enable agent app/a"));
        Assert.Equal("\n", await CliHost.RunAsync(h, "disable agent app/a"));
        Assert.Equal("agent checks are not enabled on this server.\n\n", await CliHost.RunAsync(h, "set server app/a agent up"));
        Assert.StartsWith("usage: set server <backend>/<server> addr | agent |", await CliHost.RunAsync(h, "set server app/a foo"));

        Assert.Equal($"no need to change the addr, port changed from '{a.Port}' to '{c.Port}' by 'stats socket command'\n\n",
            await CliHost.RunAsync(h, $"set server app/a addr 127.0.0.1 port {c.Port}"));
        Assert.Equal("Invalid addr 'bad' by 'stats socket command'\n\n", await CliHost.RunAsync(h, "set server app/a addr bad"));
        var split = await SplitAsync(fe, 4);
        Assert.Equal(2, split.GetValueOrDefault("C"));
        Assert.False(split.ContainsKey("A"));
    }

    [Fact]
    public async Task FrontendCommandsAndShutdownSessions_StopAcceptingAndCloseStreams()
    {
        var release = new TaskCompletionSource();
        await using var a = new TestServer("A", async s =>
        {
            await s.SendAsync(Encoding.ASCII.GetBytes("A"));
            await release.Task.WaitAsync(TimeSpan.FromSeconds(30));
        });
        await using var b = new TestServer("B");
        await using var h = await CliHost.StartAsync(a, b);
        int fe = h.Ports[0];

        Assert.Equal("\n", await CliHost.RunAsync(h, "set server app/b state maint"));
        using var held = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.InterNetwork, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Tcp);
        await held.ConnectAsync(System.Net.IPAddress.Loopback, fe);
        var buf = new byte[16];
        Assert.Equal(1, await held.ReceiveAsync(buf));
        Assert.Equal("No such server.\n\n", await CliHost.RunAsync(h, "shutdown sessions server app/nope"));
        Assert.Equal("\n", await CliHost.RunAsync(h, "shutdown sessions server app/a"));
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            int n;
            try
            {
                n = await held.ReceiveAsync(buf, System.Net.Sockets.SocketFlags.None, cts.Token);
            }
            catch (System.Net.Sockets.SocketException)
            {
                n = 0;
            }

            Assert.Equal(0, n);
        }

        release.TrySetResult();
        Assert.Equal("\n", await CliHost.RunAsync(h, "disable frontend fe"));
        Assert.Equal("All sockets are already disabled.\n\n", await CliHost.RunAsync(h, "disable frontend fe"));
        Assert.True(await LuaControl.RefusedAsync(fe));
        Assert.Equal("\n", await CliHost.RunAsync(h, "enable frontend fe"));
        Assert.Equal("A", await HaluaProcess.ExchangeAsync(fe));
        Assert.Equal("A frontend name is expected.\n\n", await CliHost.RunAsync(h, "shutdown frontend"));
        Assert.Equal("No such frontend.\n\n", await CliHost.RunAsync(h, "shutdown frontend app"));
        Assert.Equal("\n", await CliHost.RunAsync(h, "shutdown frontend fe"));
        Assert.Equal("Frontend was previously shut down, cannot enable.\n\n", await CliHost.RunAsync(h, "enable frontend fe"));
        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => HaluaProcess.ExchangeAsync(fe));
    }

    [Fact]
    public async Task ShowStatInfoServersState_HaproxyFormats()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await CliHost.StartAsync(a, b);
        await SplitAsync(h.Ports[0], 2);

        string stat = await CliHost.RunAsync(h, "show stat");
        var lines = stat.Split('\n');
        Assert.StartsWith("# pxname,svname,qcur,qmax,scur,", lines[0]);
        Assert.EndsWith(",agg_check_status,-,ssl_sess,ssl_reused_sess,ssl_failed_handshake,h2_headers_rcvd,h2_data_rcvd,h2_settings_rcvd,h2_rst_stream_rcvd,h2_goaway_rcvd,h2_detected_conn_protocol_errors,h2_detected_strm_protocol_errors,h2_rst_stream_resp,h2_goaway_resp,h2_open_connections,h2_backend_open_streams,h2_total_connections,h2_backend_total_streams,h1_open_connections,h1_open_streams,h1_total_connections,h1_total_streams,h1_bytes_in,h1_bytes_out,h1_spliced_bytes_in,h1_spliced_bytes_out,", lines[0]);
        var rows = lines.Skip(1).TakeWhile(l => l.Length > 0).ToList();
        Assert.Equal(["fe,FRONTEND", "app,a", "app,b", "app,BACKEND", "web,FRONTEND"], rows.Select(r => string.Join(',', r.Split(',')[..2])));
        Assert.All(rows, r => Assert.Equal(129, r.Split(',').Length));
        Assert.Equal(2, long.Parse(rows[3].Split(',')[7], System.Globalization.CultureInfo.InvariantCulture));
        Assert.EndsWith("\n\n", stat);

        string servers = await CliHost.RunAsync(h, "show stat app 4 -1");
        Assert.Equal(["app,a", "app,b"], servers.Split('\n').Skip(1).TakeWhile(l => l.Length > 0).Select(r => string.Join(',', r.Split(',')[..2])));
        Assert.EndsWith("No such proxy.\n\n", await CliHost.RunAsync(h, "show stat nope 4 -1"));
        Assert.Equal("\n", await CliHost.RunAsync(h, "set server app/a state maint"));
        string noMaint = await CliHost.RunAsync(h, "show stat no-maint");
        Assert.DoesNotContain("\napp,a,", noMaint);
        Assert.Contains("\napp,b,", noMaint);

        string info = await CliHost.RunAsync(h, "show info");
        Assert.StartsWith("Name: HaLua\nVersion: ", info);
        Assert.Contains("\nNbthread: ", info);
        Assert.EndsWith("\n\n", info);

        string state = await CliHost.RunAsync(h, "show servers state app");
        var st = state.Split('\n');
        Assert.Equal("1", st[0]);
        Assert.Equal("# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port", st[1]);
        var fa = st[2].Split(' ');
        Assert.Equal(["app", "1", "a", "127.0.0.1", "0", "1", "1", "1"], fa[1..9]);
        Assert.Equal(a.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), fa[18]);
        Assert.Equal(25, fa.Length);
        Assert.Equal(["app", "2", "b", "127.0.0.1"], st[3].Split(' ')[1..5]);
        Assert.Equal("Can't find backend.\n\n", await CliHost.RunAsync(h, "show servers state nope"));
        Assert.Equal("# name\napp\n\n", await CliHost.RunAsync(h, "show backend"));
    }

    [Fact]
    public async Task MapAndAclCommands_VersionsRefsAndPayload_ChangeTheNextDecision()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await CliHost.StartAsync(a, b);
        string map = Path.Combine(h.Process.Directory, "hosts.map");
        string acl = Path.Combine(h.Process.Directory, "vip.acl");
        int web = h.Ports[1];

        Assert.Equal($"# id (file) description\n0 ({map}) pattern loaded from file '{map}' used by map. curr_ver=0 next_ver=0 entry_cnt=2\n\n", await CliHost.RunAsync(h, "show map"));
        Assert.Equal("0x1 a.example one\n0x2 b.example two\n\n", await CliHost.RunAsync(h, $"show map {map}"));
        Assert.Equal("0x1 a.example one\n0x2 b.example two\n\n", await CliHost.RunAsync(h, "show map #0"));
        Assert.Equal("type=str, case=sensitive, found=yes, idx=tree, key=\"a.example\", value=\"one\", type=\"str\"\n\n", await CliHost.RunAsync(h, $"get map {map} a.example"));
        Assert.Equal("type=str, case=sensitive, found=no\n\n", await CliHost.RunAsync(h, $"get map {map} z.example"));
        Assert.Equal("Unknown map identifier. Please use #<id> or <file>.\n\n", await CliHost.RunAsync(h, "show map nope"));

        Assert.Equal("\n", await CliHost.RunAsync(h, $"add map {map} c.example three"));
        Assert.Equal("route=three", await HttpAsync(web, "c.example"));
        Assert.Equal("\n", await CliHost.RunAsync(h, $"set map {map} a.example uno"));
        Assert.Equal("route=uno", await HttpAsync(web, "a.example"));
        Assert.Equal("\n", await CliHost.RunAsync(h, $"set map {map} #0x2 dos"));
        Assert.Equal("route=dos", await HttpAsync(web, "b.example"));
        Assert.Equal("entry not found.\n\n", await CliHost.RunAsync(h, $"set map {map} nokey v"));
        Assert.Equal("\n", await CliHost.RunAsync(h, $"del map {map} #0x3"));
        Assert.Equal("route=fallback", await HttpAsync(web, "c.example"));
        Assert.Equal("Key not found.\n\n", await CliHost.RunAsync(h, $"del map {map} c.example"));
        Assert.Equal("This command expects two parameters: map identifier and key.\n\n", await CliHost.RunAsync(h, $"del map {map}"));

        // A payload: the lines up to an empty one.
        Assert.Equal("\n0x1 a.example uno\n0x2 b.example dos\n0x4 d.example four\n0x5 e.example five\n\n",
            await CliClient.RunAsync(CliHost.Admin(h), $"add map {map} <<\nd.example four\ne.example five\n\nshow map {map}\n"));

        // Versions: prepare, fill, commit at once.
        Assert.Equal("New version created: 1\n\n", await CliHost.RunAsync(h, $"prepare map {map}"));
        Assert.Equal("\n\n", await CliHost.RunAsync(h, $"add map @1 {map} a.example new-a;add map @1 {map} z.example zed"));
        Assert.Equal("Version number in the future, please use 'prepare map' before.\n\n", await CliHost.RunAsync(h, $"add map @9 {map} x y"));
        Assert.Equal("0x1 a.example new-a\n0x2 z.example zed\n\n", await CliHost.RunAsync(h, $"show map @1 {map}"));
        Assert.Equal("route=uno", await HttpAsync(web, "a.example"));
        Assert.Equal("Missing version number.\n\n", await CliHost.RunAsync(h, $"commit map {map}"));
        Assert.Equal("Version number out of range.\n\n", await CliHost.RunAsync(h, $"commit map @9 {map}"));
        Assert.Equal("\n", await CliHost.RunAsync(h, $"commit map @1 {map}"));
        Assert.Equal("route=new-a", await HttpAsync(web, "a.example"));
        Assert.Equal("route=fallback", await HttpAsync(web, "b.example"));
        Assert.Equal("\n", await CliHost.RunAsync(h, $"clear map {map}"));
        Assert.Equal("route=fallback", await HttpAsync(web, "a.example"));

        // ACL files.
        Assert.NotEqual("vip", await HttpAsync(web, "a.example", "carol"));
        Assert.Equal("\n", await CliHost.RunAsync(h, $"add acl {acl} carol"));
        Assert.Equal("vip", await HttpAsync(web, "a.example", "carol"));
        Assert.Equal("type=str, case=sensitive, match=yes, idx=tree, pattern=\"carol\"\n\n", await CliHost.RunAsync(h, $"get acl {acl} carol"));
        Assert.Equal("0x1 alice\n0x2 carol\n\n", await CliHost.RunAsync(h, $"show acl {acl}"));
        Assert.Equal("\n", await CliHost.RunAsync(h, $"del acl {acl} carol"));
        Assert.Equal("route=fallback", await HttpAsync(web, "a.example", "carol"));
        Assert.Equal("New version created: 1\n\n\n\n", await CliHost.RunAsync(h, $"prepare acl {acl};add acl @1 {acl} dave;commit acl @1 {acl}"));
        Assert.Equal("vip", await HttpAsync(web, "a.example", "dave"));
        Assert.Equal("route=fallback", await HttpAsync(web, "a.example", "alice"));
        Assert.Equal("Unknown ACL identifier. Please use #<id> or <file>.\n\n", await CliHost.RunAsync(h, "show acl nope"));
    }

    [Fact]
    public async Task AddAndDeleteServer_TheNewServerTakesTraffic_AndShowsInStatsLuaAndTheAdminApi()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var c = new TestServer("C");
        await using var h = await CliHost.StartAsync(a, b);
        int fe = h.Ports[0];

        Assert.Equal("New server registered.\n\n", await CliHost.RunAsync(h, $"add server app/c 127.0.0.1:{c.Port}"));
        Assert.Equal("Already exists a server with the same name in backend.\n\n", await CliHost.RunAsync(h, $"add server app/c 127.0.0.1:{c.Port}"));
        Assert.Equal("No such backend.\n", await CliHost.RunAsync(h, "add server nope/x 127.0.0.1:1"));
        Assert.Equal("weight of server w is not within 0 and 256 (300)..\n\n", await CliHost.RunAsync(h, "add server app/w 127.0.0.1:1 weight 300"));

        // In maintenance until enabled.
        Assert.False((await SplitAsync(fe, 4)).ContainsKey("C"));
        Assert.Contains("\napp,c,", await CliHost.RunAsync(h, "show stat"));
        Assert.Contains(" c 127.0.0.1 0 1 1 1 ", await CliHost.RunAsync(h, "show servers state app"));
        Assert.Equal("a,b,c\n\n", await CliHost.RunAsync(h, "lua servers"));
        Assert.Contains((await h.Client.ListServersAsync("app")), s => s.Name == "c" && s.AdminState == Admin.V1.AdminState.Maint);

        Assert.Equal("\n\n", await CliHost.RunAsync(h, "set server app/c state ready;set server app/a state maint"));
        var split = await SplitAsync(fe, 6);
        Assert.Equal(3, split.GetValueOrDefault("C"));
        Assert.Equal(3, split.GetValueOrDefault("B"));

        Assert.Equal("Only servers in maintenance mode can be deleted.\n", await CliHost.RunAsync(h, "del server app/c"));
        Assert.Equal("\nServer deleted.\n", await CliHost.RunAsync(h, "disable server app/c;del server app/c"));
        Assert.Equal("No such server.\n", await CliHost.RunAsync(h, "del server app/c"));
        Assert.Equal("a,b\n\n", await CliHost.RunAsync(h, "lua servers"));
        Assert.DoesNotContain("\napp,c,", await CliHost.RunAsync(h, "show stat"));
        Assert.DoesNotContain(await h.Client.ListServersAsync("app"), s => s.Name == "c");

        // enabled, weight, backup keywords; a configured server can go too, once in maintenance.
        Assert.Equal("New server registered.\n\n", await CliHost.RunAsync(h, $"add server app/d 127.0.0.1:{c.Port} weight 3 enabled"));
        Assert.Equal("3 (initial 3)\n\n", await CliHost.RunAsync(h, "get weight app/d"));
        Assert.Equal(new Dictionary<string, int> { ["B"] = 1, ["C"] = 3 }, await SplitAsync(fe, 4));
        Assert.Equal("Server deleted.\n", await CliHost.RunAsync(h, "del server app/a"));
        Assert.Equal("b,d\n\n", await CliHost.RunAsync(h, "lua servers"));
    }

    [Fact]
    public async Task LuaCommands_ArgsOutputAndInput_AFailureIsLoggedAndTheSessionGoesOn()
    {
        await using var a = new TestServer("A");
        await using var b = new TestServer("B");
        await using var h = await CliHost.StartAsync(a, b);
        Assert.Equal("hi hello world x y nil\n\n", await CliHost.RunAsync(h, "hello world x y"));
        Assert.Equal("got [line for lua\n]\n\n", await CliClient.RunAsync(CliHost.Admin(h), "echo\nline for lua\n"));
        Assert.Equal("1\n2\n3\n\n", await CliHost.RunAsync(h, "count 3"));

        await using var c = await CliClient.ConnectAsync(CliHost.Admin(h));
        await c.SendAsync("prompt\n");
        await c.ReadUntilAsync();
        await c.SendAsync("fail\n");
        Assert.Equal("before\n\n> ", await c.ReadUntilAsync());
        await h.Process.WaitForStderrAsync("boom", TimeSpan.FromSeconds(10));
        Assert.Contains("fail", h.Process.Stderr);
        await c.SendAsync("echo\n");
        await c.SendAsync("typed later\n");
        Assert.Equal("got [typed later\n]\n\n> ", await c.ReadUntilAsync());
        await c.SendAsync("get weight app/a\n");
        Assert.Equal("1 (initial 1)\n\n> ", await c.ReadUntilAsync());
        Assert.False(h.Process.HasExited);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task UnixSocket_ModeAndOwner_Applied()
    {
        await using var h = await HaluaProcess.StartAsync("""
            global
               stats socket {DIR}/a.sock mode 640 uid 65534 gid 65534 level admin
               stats socket {DIR}/b.sock mode 600
            defaults
               mode tcp
               timeout connect 1s
               timeout client 5s
               timeout server 5s
            frontend fe
               bind 127.0.0.1:{PORT0}
               default_backend app
            backend app
               server a 127.0.0.1:1
            """);
        await h.WaitForStderrAsync("b.sock", TimeSpan.FromSeconds(20));
        string aSock = Path.Combine(h.Directory, "a.sock");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead, File.GetUnixFileMode(aSock));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(h.Directory, "b.sock")));
        if (Environment.IsPrivilegedProcess)
        {
            var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%u:%g", aSock]) { RedirectStandardOutput = true })!;
            Assert.Equal("65534:65534", (await stat.StandardOutput.ReadToEndAsync()).Trim());
        }
        else
        {
            Assert.Contains("cannot change the owner", h.Stderr);
        }

        // The default level is operator, as HAProxy's.
        Assert.Equal("operator\n\n", await CliClient.RunAsync(CliClient.Unix(Path.Combine(h.Directory, "b.sock")), "show cli level\n"));
    }
}
