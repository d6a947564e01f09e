using System.Diagnostics;

namespace HaLua.DataPlane.Tests.Stats;

/// <summary>
/// Debian's <c>prometheus</c> package (the server and <c>promtool</c>): installed with apt-get the
/// first time a test needs it and it is missing (as root, where apt-get exists). Tests that need it
/// are skipped only when it cannot be installed.
/// </summary>
internal static class PrometheusTools
{
    public const string Promtool = "/usr/bin/promtool";
    public const string Server = "/usr/bin/prometheus";

    private static readonly Lazy<string?> Missing = new(Install);

    /// <summary>Why the tools are not there (after one install attempt), or null when they are.</summary>
    public static string? WhyMissing => Missing.Value;

    private static bool Present => File.Exists(Promtool) && File.Exists(Server);

    private static string? Install()
    {
        if (Present)
        {
            return null;
        }

        if (!File.Exists("/usr/bin/apt-get") || Environment.UserName != "root")
        {
            return "Debian's prometheus package is not installed and cannot be (apt-get as root)";
        }

        string log = Run("apt-get", "install -y --no-install-recommends prometheus");
        if (!Present)
        {
            log += Run("apt-get", "update") + Run("apt-get", "install -y --no-install-recommends prometheus");
        }

        return Present ? null : "installing Debian's prometheus package failed: " + log[Math.Max(0, log.Length - 400)..];
    }

    private static string Run(string file, string args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["DEBIAN_FRONTEND"] = "noninteractive";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
        }

        return stdout.Result + stderr.Result;
    }
}

/// <summary>A test that needs Prometheus (<see cref="PrometheusTools"/>): installs it if missing, skipped if it cannot.</summary>
internal sealed class PrometheusFactAttribute : FactAttribute
{
    public PrometheusFactAttribute()
    {
        if (PrometheusTools.WhyMissing is { } why)
        {
            Skip = why;
        }
    }
}
