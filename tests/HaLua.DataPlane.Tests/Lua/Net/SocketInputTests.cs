using System.Text;
using HaLua.DataPlane.Lua.Net;

namespace HaLua.DataPlane.Tests.Lua.Net;

public class SocketInputTests
{
    private static void Feed(SocketInput input, string text)
    {
        var bytes = Encoding.Latin1.GetBytes(text);
        var memory = input.PrepareRead();
        Assert.True(memory.Length >= bytes.Length);
        bytes.CopyTo(memory);
        input.Commit(bytes.Length);
    }

    /// <summary>Applies <paramref name="pattern"/> and takes its result as the script would.</summary>
    private static (ReceiveStatus Status, string Text) Take(SocketInput input, ReceivePattern pattern, bool expired = false)
    {
        var status = input.Next(pattern, expired, out int length, out int consume);
        string text = status is ReceiveStatus.Data or ReceiveStatus.Timeout ? Encoding.Latin1.GetString(input.Data[..length]) : "";
        input.Consume(consume);
        return (status, text);
    }

    [Fact]
    public void Next_LineSplitOverSegments_WaitsUntilTheLf()
    {
        using var input = new SocketInput();
        Feed(input, "hel");
        Assert.Equal(ReceiveStatus.NeedMore, Take(input, ReceivePattern.Line).Status);
        Feed(input, "lo\r");
        Assert.Equal(ReceiveStatus.NeedMore, Take(input, ReceivePattern.Line).Status);
        Feed(input, "\nwor");

        // The line without its LF (its CR is dropped when pushed to Lua); the LF is taken.
        Assert.Equal((ReceiveStatus.Data, "hello\r"), Take(input, ReceivePattern.Line));
        Assert.Equal(ReceiveStatus.NeedMore, Take(input, ReceivePattern.Line).Status);
        Feed(input, "ld\n\n");
        Assert.Equal((ReceiveStatus.Data, "world"), Take(input, ReceivePattern.Line));
        Assert.Equal((ReceiveStatus.Data, ""), Take(input, ReceivePattern.Line));
        Assert.Equal(0, input.Count);
    }

    [Fact]
    public void Next_CountOverSegments_ReturnsExactlyThatMany()
    {
        using var input = new SocketInput();
        Feed(input, "12");
        Assert.Equal(ReceiveStatus.NeedMore, Take(input, ReceivePattern.Bytes(5)).Status);
        Feed(input, "345678");
        Assert.Equal((ReceiveStatus.Data, "12345"), Take(input, ReceivePattern.Bytes(5)));
        Assert.Equal((ReceiveStatus.Data, ""), Take(input, ReceivePattern.Bytes(0)));
        Assert.Equal((ReceiveStatus.Data, "678"), Take(input, ReceivePattern.Bytes(3)));
    }

    [Fact]
    public void Next_AllPattern_WaitsForTheCloseThenGivesEverything()
    {
        using var input = new SocketInput();
        Feed(input, "a\nb");
        Assert.Equal(ReceiveStatus.NeedMore, Take(input, ReceivePattern.All).Status);
        Feed(input, "\r\nc");
        input.Eof = true;
        Assert.Equal((ReceiveStatus.Data, "a\nb\r\nc"), Take(input, ReceivePattern.All));

        // Nothing left after the close: nil, "closed".
        Assert.Equal(ReceiveStatus.Closed, Take(input, ReceivePattern.All).Status);
    }

    [Fact]
    public void Next_CloseWithPartialLineOrCount_GivesWhatArrived()
    {
        using var input = new SocketInput();
        Feed(input, "last line without lf");
        input.Eof = true;
        Assert.Equal((ReceiveStatus.Data, "last line without lf"), Take(input, ReceivePattern.Line));
        Assert.Equal(ReceiveStatus.Closed, Take(input, ReceivePattern.Line).Status);

        using var counted = new SocketInput();
        Feed(counted, "abc");
        counted.Eof = true;
        Assert.Equal((ReceiveStatus.Data, "abc"), Take(counted, ReceivePattern.Bytes(10)));
        Assert.Equal(ReceiveStatus.Closed, Take(counted, ReceivePattern.Bytes(10)).Status);
    }

    [Fact]
    public void Next_Expired_IsTimeoutWithThePartialData_ThenTheRestStillComes()
    {
        using var input = new SocketInput();
        Feed(input, "part");
        Assert.Equal((ReceiveStatus.Timeout, "part"), Take(input, ReceivePattern.Line, expired: true));
        Assert.Equal((ReceiveStatus.Timeout, ""), Take(input, ReceivePattern.Bytes(3), expired: true));
        Feed(input, "ial\n");
        Assert.Equal((ReceiveStatus.Data, "ial"), Take(input, ReceivePattern.Line, expired: true));
    }

    [Fact]
    public void PrepareRead_LongLineBeyondTheBuffer_GrowsAndKeepsTheBytes()
    {
        using var input = new SocketInput();
        var expected = new StringBuilder();
        Feed(input, "skip\n");
        Assert.Equal((ReceiveStatus.Data, "skip"), Take(input, ReceivePattern.Line));
        for (int i = 0; i < 100; i++)
        {
            string piece = $"{i:000}" + new string('x', 997);
            expected.Append(piece);
            Feed(input, piece);
            Assert.Equal(ReceiveStatus.NeedMore, Take(input, ReceivePattern.Line).Status);
        }

        Feed(input, "\nnext\n");
        Assert.Equal((ReceiveStatus.Data, expected.ToString()), Take(input, ReceivePattern.Line));
        Assert.Equal((ReceiveStatus.Data, "next"), Take(input, ReceivePattern.Line));
    }

    [Fact]
    public void PrepareRead_AfterConsumingMost_MovesTheRestToTheFront()
    {
        using var input = new SocketInput();
        var big = new string('a', 14 * 1024);
        Feed(input, big + "\ntail");
        Assert.Equal((ReceiveStatus.Data, big), Take(input, ReceivePattern.Line));
        Feed(input, new string('b', 8 * 1024) + "\n");
        Assert.Equal((ReceiveStatus.Data, "tail" + new string('b', 8 * 1024)), Take(input, ReceivePattern.Line));
    }

    [Fact]
    public void Consume_EverythingWhileAReadIsPending_TheReadsBytesAreWhatFollows()
    {
        using var input = new SocketInput();
        Feed(input, "part");

        // A read is started (it outlives a receive timeout), then the timeout takes "part".
        var pending = input.PrepareRead();
        Assert.Equal((ReceiveStatus.Timeout, "part"), Take(input, ReceivePattern.Line, expired: true));
        "ial\n"u8.CopyTo(pending.Span);
        input.Commit(4);
        Assert.Equal((ReceiveStatus.Data, "ial"), Take(input, ReceivePattern.Line));
    }
}
