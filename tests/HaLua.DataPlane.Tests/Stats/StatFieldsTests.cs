using HaLua.DataPlane.Config;
using HaLua.DataPlane.Model;
using HaLua.DataPlane.Runtime;
using HaLua.DataPlane.Stats;

namespace HaLua.DataPlane.Tests.Stats;

/// <summary>The stats columns and rows the Lua classes, the CLI and the exporter share.</summary>
public class StatFieldsTests
{
    /// <summary>HAProxy 2.6.12's <c>show stat</c> header, up to the modules' columns.</summary>
    private const string Header = "pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,agent_health,addr,cookie,mode,algo,conn_rate,conn_rate_max,conn_tot,intercepted,dcon,dses,wrew,connect,reuse,cache_lookups,cache_hits,srv_icur,src_ilim,qtime_max,ctime_max,rtime_max,ttime_max,eint,idle_conn_cur,safe_conn_cur,used_conn_cur,need_conn_est,uweight,agg_server_status,agg_server_check_status,agg_check_status";

    [Fact]
    public void Names_AreHaproxy26sShowStatHeader_AndMatchTheEnum()
    {
        Assert.Equal(Header, string.Join(',', StatFields.Names));
        var members = Enum.GetNames<StatField>();
        Assert.Equal(StatFields.Count, members.Length);
        for (int i = 0; i < members.Length; i++)
        {
            Assert.Equal(StatFields.Names[i].Replace("_", "", StringComparison.Ordinal), members[i].ToLowerInvariant());
        }
    }

    [Fact]
    public void Rows_EachKindHasItsFields_WithTheLiveValues()
    {
        var loc = new SourceLocation("t.cfg", 1);
        var cfg = new ProxyConfig("px", ProxyCapabilities.Listen, loc)
        {
            Mode = ProxyMode.Http,
            Uuid = 7,
            Servers = [new ServerConfig("s", "127.0.0.1", 80, loc) { Weight = 3, Check = true }, new ServerConfig("b", "127.0.0.1", 81, loc) { Backup = true }],
        };
        var px = new ProxyRuntime(cfg, 50);
        var be = px.Backend!;
        be.SetServers([.. cfg.Servers.Select((c, i) => new ServerState(c, i + 1, be, new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 80 + i)))]);
        be.Servers[0].Counters.SessionStarted();
        be.Servers[0].Counters.Response(204);
        be.Counters.Request();

        var server = StatLines.Server(be.Servers[0]);
        Assert.Equal(("px", "s", 2L, 1L, 7L), (server[StatField.PxName].Text, server[StatField.SvName].Text, server[StatField.Type].Integer, server[StatField.Sid].Integer, server[StatField.Iid].Integer));
        Assert.Equal((1L, 1L, "UP", "INI", "127.0.0.1:80"), (server[StatField.SCur].Integer, server[StatField.Hrsp2xx].Integer, server[StatField.Status].Text, server[StatField.CheckStatus].Text, server[StatField.Addr].Text));
        Assert.True(server[StatField.SLim].IsEmpty); // no maxconn
        Assert.True(server[StatField.EReq].IsEmpty);

        var backup = StatLines.Server(be.Servers[1]);
        Assert.Equal(("no check", 0L, 1L), (backup[StatField.Status].Text, backup[StatField.Act].Integer, backup[StatField.Bck].Integer));
        Assert.True(backup[StatField.CheckStatus].IsEmpty);

        // A listen section's BACKEND row; its frontend's FRONTEND row; no listener rows without socket-stats.
        var back = StatLines.Backend(px);
        Assert.Equal(("BACKEND", "UP", 3L, 1L, 1L, 1L), (back[StatField.SvName].Text, back[StatField.Status].Text, back[StatField.Weight].Integer, back[StatField.Act].Integer, back[StatField.Bck].Integer, back[StatField.ReqTot].Integer));
        var front = StatLines.Frontend(px);
        Assert.Equal(("FRONTEND", "OPEN", 50L, "http"), (front[StatField.SvName].Text, front[StatField.Status].Text, front[StatField.SLim].Integer, front[StatField.Mode].Text));
        Assert.True(front[StatField.QCur].IsEmpty);
        Assert.Null(StatLines.Listener(px, new HaLua.DataPlane.Listeners.Listener(new BindConfig(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 1), null, loc), "sock-1")));
        Assert.Equal(["FRONTEND", "s", "b", "BACKEND"], StatLines.All([px]).Select(r => r[StatField.SvName].Text!).ToArray());

        // Every usable server gone: the backend is down, and its weight falls back to nothing.
        RuntimeOperations.SetState(be.Servers[0], ServerAdminState.Maint, RuntimeOperations.CliUpdater);
        Assert.Equal(("UP", 1L, 0L), (StatLines.Backend(px)[StatField.Status].Text, StatLines.Backend(px)[StatField.Weight].Integer, StatLines.Backend(px)[StatField.Act].Integer));
        RuntimeOperations.SetState(be.Servers[1], ServerAdminState.Maint, RuntimeOperations.CliUpdater);
        var down = StatLines.Backend(px);
        Assert.Equal(("DOWN", 0L, 1L), (down[StatField.Status].Text, down[StatField.Weight].Integer, down[StatField.ChkDown].Integer));
    }
}
