using System.Net;
using HaLua.DataPlane.Samples;

namespace HaLua.DataPlane.Tests.Samples;

/// <summary>The stream values that fetches read, set by each test.</summary>
internal sealed class TestSampleContext : ISampleContext
{
    public IPEndPoint? Source { get; init; } = new(IPAddress.Parse("192.0.2.10"), 40000);

    public IPEndPoint? Destination { get; init; } = new(IPAddress.Parse("198.51.100.1"), 8443);

    public string FrontendName { get; init; } = "fe";

    public Variables Variables { get; } = new();

    public string? BackendName { get; init; } = "be";

    public string? ServerName { get; init; }

    public byte[] Content { get; init; } = [];

    public ReadOnlySpan<byte> RequestContent => Content;

    public Dictionary<string, int> Backends { get; init; } = new(StringComparer.Ordinal) { ["be"] = 2 };

    public int UsableServers(string backend) => Backends.GetValueOrDefault(backend, -1);
}
