using System.Text;
using HaLua.DataPlane.Http;

namespace HaLua.DataPlane.Tests.Http;

public class ChunkedDecoderTests
{
    private static (ChunkedStatus Status, int Consumed, ChunkedDecoder Decoder) Run(string body, int segment = int.MaxValue)
    {
        var bytes = Encoding.Latin1.GetBytes(body);
        var d = new ChunkedDecoder();
        int total = 0;
        var status = ChunkedStatus.NeedMore;
        for (int off = 0; off < bytes.Length && status == ChunkedStatus.NeedMore; off += segment)
        {
            var piece = bytes.AsSpan(off, Math.Min(segment, bytes.Length - off));
            status = d.Consume(piece, out int consumed);
            total += consumed;
        }

        return (status, total, d);
    }

    [Theory]
    [InlineData(int.MaxValue)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(5)]
    public void Valid_Body_AnySplit_DoneWithPayloadAndNothingOfTheNextMessage(int segment)
    {
        const string body = "5\r\nhello\r\nA;ext=1\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n";
        var (status, consumed, d) = Run(body + "GET / HTTP/1.1\r\n", segment);
        Assert.Equal(ChunkedStatus.Done, status);
        Assert.Equal(body.Length, consumed);
        Assert.Equal(15, d.PayloadLength);
    }

    [Fact]
    public void LfOnly_AndUppercaseHex_Accepted()
    {
        var (status, _, d) = Run("1F\n" + new string('x', 31) + "\n0\n\n");
        Assert.Equal(ChunkedStatus.Done, status);
        Assert.Equal(31, d.PayloadLength);
    }

    [Fact]
    public void Unfinished_NeedsMore()
    {
        Assert.Equal(ChunkedStatus.NeedMore, Run("5\r\nhel").Status);
        Assert.Equal(ChunkedStatus.NeedMore, Run("5\r\nhello\r\n0\r\n").Status);
    }

    [Theory]
    [InlineData("zz\r\n\r\n", "invalid chunk size")]
    [InlineData("\r\n\r\n", "invalid chunk size")]
    [InlineData("-5\r\nhello\r\n0\r\n\r\n", "invalid chunk size")]
    [InlineData("5 x\r\nhello\r\n0\r\n\r\n", "invalid chunk size")]
    [InlineData("0x5\r\nhello\r\n0\r\n\r\n", "invalid chunk size")]
    [InlineData("1000000000000000\r\n", "too large")]
    [InlineData("5\rhello\r\n0\r\n\r\n", "bare CR")]
    [InlineData("5\r\nhelloXX\r\n0\r\n\r\n", "missing CRLF")]
    [InlineData("5\r\nhello\r0\r\n\r\n", "missing CRLF")]
    [InlineData("5;a\u0001b\r\nhello\r\n0\r\n\r\n", "control character")]
    [InlineData("0\r\n folded\r\n\r\n", "folding")]
    [InlineData("0\r\nX: y\rZ\r\n\r\n", "bare CR")]
    public void Invalid_IsAnError(string body, string reason)
    {
        var (status, _, d) = Run(body);
        Assert.Equal(ChunkedStatus.Error, status);
        Assert.Contains(reason, d.Error, StringComparison.OrdinalIgnoreCase);
    }
}
