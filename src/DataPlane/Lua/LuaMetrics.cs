using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace HaLua.DataPlane.Lua;

/// <summary>
/// The duration of each Lua execution (<c>halua_lua_duration_seconds</c>), by registered function
/// name and context: from its start to its end, waits included. Recorded once per execution when
/// it goes back to its state; without a metrics endpoint nothing listens and it costs one check.
/// </summary>
internal static class LuaMetrics
{
    public const string MeterName = "HaLua.Lua";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<double> Duration = Meter.CreateHistogram(
        "halua_lua_duration_seconds",
        unit: null,
        description: "Duration of Lua executions (start to end, waits included), by registered function and context, in seconds",
        tags: null,
        advice: new InstrumentAdvice<double>
        {
            HistogramBucketBoundaries = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        });

    public static void Executed(string kind, string function, long started)
    {
        if (Duration.Enabled)
        {
            Duration.Record(
                Stopwatch.GetElapsedTime(started).TotalSeconds,
                new KeyValuePair<string, object?>("function", function),
                new KeyValuePair<string, object?>("kind", kind));
        }
    }
}
