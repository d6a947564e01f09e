using HaLua.DataPlane.Config;
using HaLua.DataPlane.Logging;

namespace HaLua.DataPlane.Tests.Logging;

public class ProcessLogTests
{
    private static LogTargetConfig Target(string format, int len = 1024, string? min = null)
        => new(LogTargetKind.Stdout, format, "local0", null, null, new SourceLocation("t.cfg", 1), len, min);

    [Theory]
    [InlineData("raw", "hello")]
    [InlineData("short", "<6>hello")]
    [InlineData("priority", "<134>hello")]
    public void Render_FixedFormats(string format, string expected)
    {
        Assert.Equal(expected, ProcessLog.Render(Target(format), 6, "hello", "haproxy"));
    }

    [Fact]
    public void Render_Rfc3164_HasPriorityTagAndPid()
    {
        var line = ProcessLog.Render(Target("rfc3164"), 3, "boom", "px");
        Assert.StartsWith("<131>", line);
        Assert.EndsWith($" px[{Environment.ProcessId}]: boom", line);
    }

    [Fact]
    public void Render_IsoAndTimed_CarryAnIsoDate()
    {
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d hello$", ProcessLog.Render(Target("iso"), 6, "hello", "t"));
        Assert.Matches(@"^<6>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d hello$", ProcessLog.Render(Target("timed"), 6, "hello", "t"));
    }

    [Fact]
    public void Render_Rfc5424_SendsNoHostName_AsHaproxy()
    {
        Assert.Matches(@"^<134>1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d - t \d+ - - hello$", ProcessLog.Render(Target("rfc5424"), 6, "hello", "t"));
    }

    [Fact]
    public void Render_Len_TruncatesTheLine()
    {
        var line = ProcessLog.Render(Target("raw", len: 80), 6, new string('x', 200), "t");
        Assert.Equal(80, line.Length);
    }

    [Fact]
    public void Render_MinLevel_CapsSeverity()
    {
        // emerg (0) under a minimum of "err" (3) is sent as err; info (6) stays info.
        Assert.Equal("<3>a", ProcessLog.Render(Target("short", min: "err"), 0, "a", "t"));
        Assert.Equal("<6>a", ProcessLog.Render(Target("short", min: "err"), 6, "a", "t"));
    }
}
