using System.Collections.Immutable;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Logging;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Runtime;

/// <summary>Builds each frontend's access log (targets, compiled format) and decides which streams keep log values.</summary>
internal static class AccessLogs
{
    public static void Build(IReadOnlyList<ProxyRuntime> proxies, ImmutableArray<LogTargetConfig> globalTargets, SampleRegistry samples, List<string> errors)
    {
        bool rulesReadLogValues = proxies.Any(p => p.HttpRequestRules.Concat(p.HttpResponseRules).Any(r => r.Value is { UsesStreamLog: true }));
        foreach (var px in proxies)
        {
            // Every proxy's targets: where txn:log sends (the stream's backend once chosen, as HAProxy).
            px.LogTargets = [.. (px.Config.LogGlobal ? globalTargets : []).AddRange(px.Config.Logs).Select(t => new LogTarget(t))];
        }

        foreach (var px in proxies.Where(p => p.IsFrontend))
        {
            var cfg = px.Config;
            LogFormat? format = null;
            if (cfg.LogFormat is { } lf)
            {
                // Compiled even without a target (then it is only a warning of the parser), so that its errors show.
                try
                {
                    format = LogFormat.CompileLog(lf.Format, samples, cfg.Mode == ProxyMode.Http);
                }
                catch (FormatException ex)
                {
                    errors.Add($"{lf.Location} : '{lf.Keyword}' in section '{Section(cfg)}': {ex.Message}");
                    continue;
                }
            }

            if (px.LogTargets.Length > 0)
            {
                px.Log = new ProxyLog(px.LogTargets, format, cfg.DontLogNull, cfg.Mode == ProxyMode.Http);
            }

            px.NeedsStreamLog = px.Log is not null || rulesReadLogValues;
        }
    }

    /// <summary>A set-log-level argument: 0..7, or -1 for silent.</summary>
    public static int RuleLevel(string name) => name == "silent" ? -1 : LogLevels.Parse(name);

    private static string Section(ProxyConfig cfg) => $"{(cfg.Capabilities == ProxyCapabilities.Frontend ? "frontend" : "listen")} {cfg.Name}";
}
