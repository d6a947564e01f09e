using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using HaLua.DataPlane.Lua;
using OpenTelemetry.Metrics;

namespace HaLua.Benchmarks;

/// <summary>
/// What each Lua execution pays for <c>halua_lua_duration_seconds</c> when it ends: without a
/// metrics endpoint (nothing listens) and with one (OpenTelemetry's aggregation, as /metrics runs it).
/// </summary>
[MemoryDiagnoser]
public class LuaMetricsBenchmarks
{
    private MeterProvider? _provider;
    private long _started;

    [Params(false, true)]
    public bool Listening { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        if (Listening)
        {
            _provider = OpenTelemetry.Sdk.CreateMeterProviderBuilder().AddMeter(LuaMetrics.MeterName).AddPrometheusExporter().Build();
        }

        _started = Stopwatch.GetTimestamp();
    }

    [GlobalCleanup]
    public void Cleanup() => _provider?.Dispose();

    [Benchmark]
    public void ExecutionEnded() => LuaMetrics.Executed("action", "set-header", _started);
}
