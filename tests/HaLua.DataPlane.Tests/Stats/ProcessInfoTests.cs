using HaLua.DataPlane.Config;
using HaLua.DataPlane.Stats;
using HaLua.DataPlane.Tests.EndToEnd;

namespace HaLua.DataPlane.Tests.Stats;

/// <summary>show info as core.get_info and the control plane read it.</summary>
public class ProcessInfoTests
{
    [Fact]
    public void Rows_BeforeAHostRuns_HaproxysKeysInItsOrder_WithTheProcessValues()
    {
        var rows = new ProcessInfo(new GlobalConfig { NbThread = 3, MaxConn = 1234 }).Rows();
        Assert.Equal(LuaStatsTests.ShowInfoKeys, rows.Select(r => r.Name).ToArray());
        var info = rows.ToDictionary(r => r.Name, r => r.Value);
        Assert.Equal((3L, 1234L, (long)Environment.ProcessId, 0L, 0L), (info["Nbthread"].Integer, info["Maxconn"].Integer, info["Pid"].Integer, info["Listeners"].Integer, info["Stopping"].Integer));
        Assert.Equal(("HaLua", "0"), (info["Name"].Text, info["Tainted"].Text));
        Assert.Matches(@"^\d+d \d+h\d\dm\d\ds$", info["Uptime"].Text);
        Assert.All(rows, r => Assert.False(r.Value.IsEmpty, r.Name));
    }
}
