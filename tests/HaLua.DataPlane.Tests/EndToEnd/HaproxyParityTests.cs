using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace HaLua.DataPlane.Tests.EndToEnd;

/// <summary>A test that needs HAProxy 2.6 on the machine (to compare with); skipped without it.</summary>
internal sealed class HaproxyFactAttribute : FactAttribute
{
    public const string Path = "/usr/sbin/haproxy";

    public HaproxyFactAttribute()
    {
        if (!File.Exists(Path))
        {
            Skip = $"HAProxy is not installed ({Path})";
        }
    }
}

/// <summary><c>haproxy -f CFG -db</c> in DIR, its standard output drained, its standard error kept for error messages.</summary>
internal static class HaproxyProcess
{
    public static (Process Process, Task<string> Stderr) Start(string dir, string cfg)
    {
        var psi = new ProcessStartInfo(HaproxyFactAttribute.Path) { WorkingDirectory = dir, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in (string[])["-f", cfg, "-db"])
        {
            psi.ArgumentList.Add(arg);
        }

        var p = Process.Start(psi)!;
        _ = p.StandardOutput.ReadToEndAsync();
        return (p, p.StandardError.ReadToEndAsync());
    }
}

/// <summary>The same Lua and config on HAProxy 2.6 and on halua: the same answers.</summary>
public class HaproxyParityTests
{
    private const string Config = """
        global
           lua-load ctl.lua
        defaults
           mode tcp
           timeout connect 2s
           timeout client 5s
           timeout server 5s
        frontend fe
           option socket-stats
           bind 127.0.0.1:{PORT0}
           bind 127.0.0.1:{PORT2} name named
           default_backend be
        backend be
           server a 127.0.0.1:{PORT5} weight 10
           server b 127.0.0.1:{PORT6} backup
        {CTL}
        """;

    /// <summary>
    /// What the scripts see of the objects: attributes, key sets, getters, and the results and
    /// states of the runtime operations. {FIRST}'s get_stats comes first: HAProxy 2.6 fills one
    /// shared buffer and leaves the previous call's other fields in it, so only a process's first
    /// call shows the fields of that kind of row.
    /// </summary>
    private const string Probe = """
        local out = {}
        local function put(name, v) out[#out + 1] = name .. "=" .. tostring(v) end
        put("stats keys", keys({FIRST}:get_stats()))
        local be = core.backends.be
        local a, b = be.servers.a, be.servers.b
        put("info keys", keys(core.get_info()))
        put("proxies", keys(core.proxies) .. " / " .. keys(core.frontends) .. " / " .. keys(core.backends))
        put("proxy keys", keys(be) .. " " .. keys(be.servers) .. " " .. keys(core.frontends.fe.listeners))
        put("server keys", keys(a) .. " " .. a.name .. " " .. type(a.puid) .. " " .. a.puid .. " " .. b.puid)
        put("uuid", type(be.uuid) .. " " .. tostring(tonumber(be.uuid) ~= nil))
        put("cap/mode", core.proxies.fe:get_cap() .. " " .. be:get_cap() .. " " .. core.proxies.ctl:get_cap() .. " " .. be:get_mode())
        put("weight/addr", a:get_weight() .. " " .. a:get_addr())
        for _, w in ipairs({ "0", "50%", "15%", "101%", "257%", "+3", " 4", "", "abc", "7x", "1.5", "-1", "-1%", "300" }) do
          put("set_weight '" .. w .. "'", tostring(a:set_weight(w)) .. " -> " .. a:get_weight())
          a:set_weight("10")
        end
        put("set_addr ip", a:set_addr("127.0.0.2"))
        put("set_addr ip port", a:set_addr("127.0.0.3", "8001"))
        put("set_addr same", a:set_addr("127.0.0.3", "8001"))
        put("set_addr bad", a:set_addr("nope"))
        put("set_addr bad port", a:set_addr("127.0.0.4", "x"))
        put("set_addr v6", a:set_addr("::1"))
        put("get_addr", a:get_addr())
        local function status() return a:get_stats().status .. " " .. a:get_stats().weight end
        a:set_drain() put("drain", status())
        a:set_maint() put("drain then maint", status())
        a:set_drain() put("maint then drain", status())
        a:set_ready() put("ready", status())
        a:check_force_down() put("force down", status())
        a:check_force_nolb() put("force nolb", status())
        a:check_force_up() put("force up", status())
        a:check_enable() put("check_enable without check", status())
        a:agent_enable() a:agent_force_down() put("agent without agent", status())
        a:check_force_down() a:set_maint() a:set_ready() put("down, maint, ready", status())
        b:shut_sess() be:shut_bcksess()
        put("backend", be:get_stats().status .. " " .. be:get_stats().act .. " " .. be:get_stats().bck)
        return table.concat(out, "\n")
        """;

    [HaproxyFact]
    public async Task SameLua_OnHaproxy26AndHalua_SameObjectsAndOperationResults()
    {
        foreach (var first in (string[])["core.backends.be.servers.a", "core.frontends.fe.listeners['sock-1']", "core.frontends.fe", "core.backends.be"])
        {
            await CompareAsync(Probe.Replace("{FIRST}", first, StringComparison.Ordinal));
        }
    }

    private static async Task CompareAsync(string probe)
    {
        var files = new Dictionary<string, string> { ["ctl.lua"] = LuaControl.Script };
        string config = Config.Replace("{CTL}", LuaControl.Section, StringComparison.Ordinal) + "\n";

        string halua;
        await using (var h = await HaluaProcess.StartAsync(config, files))
        {
            halua = Normalize(await LuaControl.RunAsync(h.Ports[1], probe), h.Ports);
        }

        string haproxy = Normalize(await RunOnHaproxyAsync(config, files, probe), null);
        Assert.Equal(haproxy.Split('\n'), halua.Split('\n'));
    }

    /// <summary>Ports differ between the two runs: written as {PORTn}. HAProxy's name and version are not compared.</summary>
    private static string Normalize(string text, int[]? ports)
    {
        for (int i = 0; ports is not null && i < ports.Length; i++)
        {
            text = text.Replace(ports[i].ToString(System.Globalization.CultureInfo.InvariantCulture), "{PORT" + i + "}", StringComparison.Ordinal);
        }

        return text;
    }

    private static async Task<string> RunOnHaproxyAsync(string config, Dictionary<string, string> files, string probe)
    {
        var (dir, cfg, ports) = HaluaProcess.Prepare(config, files);
        var (started, stderr) = HaproxyProcess.Start(dir, cfg);
        using var p = started;
        try
        {
            var sw = Stopwatch.StartNew();
            while (!await ListeningAsync(ports[1]))
            {
                if (p.HasExited || sw.Elapsed > TimeSpan.FromSeconds(20))
                {
                    throw new InvalidOperationException("haproxy did not start: " + (p.HasExited ? await stderr : ""));
                }

                await Task.Delay(50);
            }

            return Normalize(await LuaControl.RunAsync(ports[1], probe), ports);
        }
        finally
        {
            p.Kill(entireProcessTree: true);
            await p.WaitForExitAsync();
            Directory.Delete(dir, true);
        }
    }

    private static async Task<bool> ListeningAsync(int port)
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await s.ConnectAsync(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
