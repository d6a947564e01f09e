using System.Diagnostics;
using HaLua.DataPlane.Tests.EndToEnd;

namespace HaLua.DataPlane.Tests.Cli;

/// <summary>The same commands on HAProxy 2.6's stats socket and on halua's: byte for byte the same answers (skipped without haproxy).</summary>
public class HaproxyCliParityTests
{
    private const string Config = """
        global
           stats socket {DIR}/admin.sock level admin
           stats socket {DIR}/user.sock level user
           lua-load {DIR}/cli.lua
        defaults
           mode tcp
           timeout connect 1s
           timeout client 5s
           timeout server 5s
        frontend fe
           bind 127.0.0.1:{PORT0}
           tcp-request content reject if { src,map_ip({DIR}/m.map) -m found }
           default_backend app
        backend app
           balance roundrobin
           server web1 127.0.0.1:{PORT1} weight 10
           server web2 127.0.0.1:{PORT2}

        """;

    private const string Lua = """
        core.register_cli({"hello", "world"}, "hello world: says hello", function(applet, a, b, c, d)
          applet:send("hi " .. tostring(a) .. " " .. tostring(b) .. " " .. tostring(c) .. " " .. tostring(d) .. "\n")
        end)
        core.register_cli({"fail"}, "fail: fails", function(applet)
          applet:send("before\n")
          error("boom")
        end)
        core.register_cli({"echo"}, "echo: reads a line", function(applet)
          applet:send("got [" .. tostring(applet:getline()) .. "]\n")
        end)
        """;

    /// <summary>Each is one connection's input on the admin socket (or the user one, with a leading '!').</summary>
    private static readonly string[] Inputs =
    [
        "get weight app/web1\n", "get weight app/nope\n", "get weight nope/x\n", "get weight\n",
        "set weight app/web1 5;get weight app/web1\n", "set weight app/web1 abc\n", "set weight app/web1 5x\n", "set weight app/web1 -5%\n",
        "set weight app/web1 300\n", "set weight app/web1\n", "set weight app/web1 100%\n",
        "set server app/web1 weight 7;get weight app/web1\n", "set server app/web1 state foo\n", "set server app/web1 state drain;set server app/web1 state ready\n",
        "set server app/web1 health foo\n", "set server app/web1 agent up\n", "set server app/web1 foo\n", "set server app/web1\n",
        "set server app/nope state ready\n", "set server nope/web1 state ready\n", "set server\n", "enable health app/web1\n",
        "enable agent app/web1\n", "disable agent app/web1\n", "disable server app/web2;enable server app/web2\n",
        "set server app/web2 addr 127.0.0.2\n", "set server app/web2 addr bad\n",
        "disable frontend\n", "disable frontend nope\n", "disable frontend app\n", "disable frontend fe;disable frontend fe;enable frontend fe;enable frontend fe\n",
        "shutdown sessions server app/nope\n", "shutdown sessions server app/web1\n",
        "show cli level\n", "show backend\n", "show servers state nope\n",
        "hello world x\n", "fail\n", "echo\nsome line\n", "prompt\nget weight app/web2\nquit\n", "prompt\nprompt\nget weight app/web2\n",
        "add server app\n", "add server app/web1 1.1.1.1:1\n", "add server nope/x 1.1.1.1:1\n",
        "add server app/web9 127.0.0.1:{PORT3}\n", "get weight app/web9;del server app/web9\n", "del server app/web9\n", "del server app/web1\n", "del server\n",
        "add server app/web8 127.0.0.1:{PORT3} weight 300\n",
        "add server app/web7 127.0.0.1:{PORT3} weight 20 backup check;enable server app/web7;del server app/web7;disable server app/web7;del server app/web7\n",
        "get map {DIR}/m.map 10.0.0.1\n", "add map {DIR}/m.map k v;set map {DIR}/m.map k v2;del map {DIR}/m.map k;del map {DIR}/m.map k\n",
        "set map {DIR}/m.map nokey v\n", "del map {DIR}/m.map\n", "add map {DIR}/m.map onlykey\n", "show map nope\n", "prepare map nope\n",
        "prepare map {DIR}/m.map;add map @1 {DIR}/m.map 10.9.9.9 x;add map @9 {DIR}/m.map a b;commit map @9 {DIR}/m.map;commit map {DIR}/m.map;commit map @1 {DIR}/m.map\n",
        "get map\n", "get acl\n",
        "!set weight app/web1 3\n", "!show cli level\n", "!operator\n", "!user;show cli level\n", "!hello world\n",
    ];

    [HaproxyFact]
    public async Task SameCommands_SameAnswers()
    {
        var files = new Dictionary<string, string> { ["cli.lua"] = Lua, ["m.map"] = "10.0.0.1 blocked\n" };
        var ports = Enumerable.Range(0, 8).Select(_ => HaluaProcess.FreePort()).ToArray();
        var halua = await RunAsync(files, ports, haproxy: false);
        var haproxy = await RunAsync(files, ports, haproxy: true);
        for (int i = 0; i < Inputs.Length; i++)
        {
            Assert.True(haproxy[i] == halua[i], $"'{Inputs[i]}':\nhaproxy: [{haproxy[i]}]\nhalua:   [{halua[i]}]");
        }
    }

    private static async Task<List<string>> RunAsync(Dictionary<string, string> files, int[] ports, bool haproxy)
    {
        var (dir, cfg, _) = HaluaProcess.Prepare(Config, files, ports);
        var psi = new ProcessStartInfo(haproxy ? HaproxyFactAttribute.Path : HaluaProcess.HaluaPath) { WorkingDirectory = dir, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in haproxy ? ["-f", cfg, "-db"] : new[] { "-f", cfg })
        {
            psi.ArgumentList.Add(arg);
        }

        using var p = Process.Start(psi)!;
        _ = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        try
        {
            var sw = Stopwatch.StartNew();
            string user = Path.Combine(dir, "user.sock");
            while (true)
            {
                try
                {
                    await CliClient.RunAsync(CliClient.Unix(user), "show cli level\n");
                    break;
                }
                catch (System.Net.Sockets.SocketException) when (sw.Elapsed < TimeSpan.FromSeconds(20))
                {
                    if (p.HasExited)
                    {
                        throw new InvalidOperationException($"{(haproxy ? "haproxy" : "halua")} did not start: {await stderr}");
                    }

                    await Task.Delay(50);
                }
            }

            var answers = new List<string>();
            foreach (string input in Inputs)
            {
                string text = input.Replace("{DIR}", dir, StringComparison.Ordinal).Replace("{PORT3}", ports[3].ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
                bool toUser = text.StartsWith('!');
                answers.Add((await CliClient.RunAsync(CliClient.Unix(Path.Combine(dir, toUser ? "user.sock" : "admin.sock")), toUser ? text[1..] : text)).Replace(dir, "{DIR}", StringComparison.Ordinal));
            }

            return answers;
        }
        finally
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
            Directory.Delete(dir, true);
        }
    }
}
