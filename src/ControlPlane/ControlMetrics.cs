using System.Diagnostics.Metrics;
using Grpc.Core;

namespace HaLua.ControlPlane;

/// <summary>The admin API's own metrics (<c>halua_control_*</c>): calls by method and status code.</summary>
public static class ControlMetrics
{
    /// <summary>The meter's name, for the exporter's list.</summary>
    public const string MeterName = "HaLua.Control";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Rpcs = Meter.CreateCounter<long>(
        "halua_control_rpcs_total", null, "Admin API calls since the process started, by gRPC method and status code");

    internal static void Rpc(string method, StatusCode code)
    {
        if (Rpcs.Enabled)
        {
            Rpcs.Add(1, new KeyValuePair<string, object?>("method", method), new KeyValuePair<string, object?>("code", code.ToString()));
        }
    }
}
