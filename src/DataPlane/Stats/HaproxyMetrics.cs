using System.Diagnostics;
using System.Diagnostics.Metrics;
using HaLua.DataPlane.Config;
using HaLua.DataPlane.Runtime;

namespace HaLua.DataPlane.Stats;

/// <summary>
/// HAProxy 2.6's Prometheus metrics (<see cref="MetricFamilies"/>) as OpenTelemetry observable
/// instruments over the one stats model: <see cref="StatLines"/> and <see cref="ProcessInfo"/>,
/// read when a scrape collects them. The hot path pays nothing for them. One snapshot of the rows
/// serves every instrument of a scrape (<see cref="Invalidate"/> starts a new one).
/// </summary>
internal sealed class HaproxyMetrics : IDisposable
{
    public const string MeterName = "HaLua.HAProxy";

    /// <summary>A snapshot older than this is taken again even without <see cref="Invalidate"/>.</summary>
    private static readonly TimeSpan MaxSnapshotAge = TimeSpan.FromSeconds(1);

    private readonly Meter _meter = new(MeterName);
    private readonly DataPlaneHost _host;
    private readonly Lock _lock = new();
    private StatsSnapshot? _snapshot;
    private long _taken;

    public HaproxyMetrics(DataPlaneHost host)
    {
        _host = host;
        foreach (var f in MetricFamilies.Process)
        {
            Create("haproxy_process_" + f.Suffix, f.Counter, f.Help, () => Observe(f));
        }

        AddFamilies("frontend", MetricFamilies.Frontend, s => s.Frontends);
        AddFamilies("listener", MetricFamilies.Listener, s => s.Listeners);
        AddFamilies("backend", MetricFamilies.Backend, s => s.Backends);
        AddFamilies("server", MetricFamilies.Server, s => s.Servers);
    }

    /// <summary>
    /// The most series an instrument of this meter can have (OpenTelemetry's cardinality limit; it
    /// sizes each instrument's table up front): one per object, times the states or codes of the
    /// families that have them, with room to spare. Null for other meters' instruments.
    /// </summary>
    public static Func<Instrument, int?> SeriesLimits(HaLuaConfig config)
    {
        int objects = 1;
        foreach (var px in config.Proxies)
        {
            objects += 2 + px.Binds.Length + px.Servers.Length;
        }

        return instrument =>
        {
            if (instrument.Meter.Name != MeterName)
            {
                return null;
            }

            string name = instrument.Name;
            int perObject = name.EndsWith("check_status", StringComparison.Ordinal) ? MetricFamilies.CheckStatuses.Length
                : name.EndsWith("_status", StringComparison.Ordinal) ? MetricFamilies.ServerStates.Length
                : name.EndsWith("http_responses_total", StringComparison.Ordinal) ? MetricFamilies.ResponseCodes.Length
                : 1;
            return (perObject * objects) + 8;
        };
    }

    /// <summary>A scrape begins: the next instrument read takes a new snapshot of the rows.</summary>
    public void Invalidate()
    {
        lock (_lock)
        {
            _snapshot = null;
        }
    }

    private void AddFamilies(string kind, string[] suffixes, Func<StatsSnapshot, List<MetricRow>> rows)
    {
        foreach (var suffix in suffixes)
        {
            var f = MetricFamilies.Proxy[suffix];
            Create($"haproxy_{kind}_{suffix}", f.Counter, f.Help, () => Observe(rows(Snapshot()), f));
        }
    }

    private void Create(string name, bool counter, string help, Func<IEnumerable<Measurement<double>>> observe)
    {
        if (counter)
        {
            _meter.CreateObservableCounter(name, observe, null, help);
        }
        else
        {
            _meter.CreateObservableGauge(name, observe, null, help);
        }
    }

    private StatsSnapshot Snapshot()
    {
        lock (_lock)
        {
            if (_snapshot is null || Stopwatch.GetElapsedTime(_taken) > MaxSnapshotAge)
            {
                _snapshot = StatsSnapshot.Take(_host);
                _taken = Stopwatch.GetTimestamp();
            }

            return _snapshot;
        }
    }

    private List<Measurement<double>> Observe(ProcessFamily f)
    {
        var info = Snapshot().Info;
        if (f.Suffix == "build_info")
        {
            return [new(1, new KeyValuePair<string, object?>("version", info.TryGetValue("Version", out var v) ? v.ToString() : ""))];
        }

        return [new(info.TryGetValue(f.InfoKey, out var value) && value.IsInteger ? value.Integer : double.NaN)];
    }

    private static List<Measurement<double>> Observe(List<MetricRow> rows, ProxyFamily f)
    {
        var result = new List<Measurement<double>>(rows.Count);
        foreach (var row in rows)
        {
            if ((f.HttpOnly && !row.Http) || (f.CheckOnly && row.Line[StatField.CheckStatus].IsEmpty))
            {
                continue;
            }

            switch (f.Kind)
            {
                case FamilyKind.Value:
                    var v = row.Line[f.Field];
                    result.Add(new(v.IsInteger ? v.Integer * f.Scale : f.ZeroIfEmpty ? 0 : double.NaN, row.Tags));
                    break;
                case FamilyKind.Status:
                    OneOf(result, row, row.States, row.State);
                    break;
                case FamilyKind.CheckStatus:
                    OneOf(result, row, MetricFamilies.CheckStatuses, row.Check);
                    break;
                case FamilyKind.HttpResponses:
                    for (int i = 0; i < MetricFamilies.ResponseCodes.Length; i++)
                    {
                        var n = row.Line[StatField.Hrsp1xx + i];
                        result.Add(new(n.IsInteger ? n.Integer : double.NaN, With(row.Tags, "code", MetricFamilies.ResponseCodes[i])));
                    }

                    break;
                case FamilyKind.ServerStates:
                    Counts(result, row, MetricFamilies.ServerStates, row.ServerStates);
                    break;
                case FamilyKind.CheckStates:
                    Counts(result, row, MetricFamilies.CheckStatuses, row.CheckStates);
                    break;
            }
        }

        return result;
    }

    private static void OneOf(List<Measurement<double>> result, MetricRow row, string[] states, int current)
    {
        for (int i = 0; i < states.Length; i++)
        {
            result.Add(new(i == current ? 1 : 0, With(row.Tags, "state", states[i])));
        }
    }

    private static void Counts(List<Measurement<double>> result, MetricRow row, string[] states, int[]? counts)
    {
        for (int i = 0; i < states.Length; i++)
        {
            result.Add(new(counts?[i] ?? 0, With(row.Tags, "state", states[i])));
        }
    }

    private static KeyValuePair<string, object?>[] With(KeyValuePair<string, object?>[] tags, string key, string value)
    {
        var all = new KeyValuePair<string, object?>[tags.Length + 1];
        tags.CopyTo(all, 0);
        all[^1] = new(key, value);
        return all;
    }

    public void Dispose() => _meter.Dispose();
}
