using System.Text;
using HaLua.DataPlane.Config;
using static HaLua.DataPlane.Tests.Config.ParsedConfig;

namespace HaLua.DataPlane.Tests.Config;

/// <summary>errorfile, errorloc, errorloc302 and errorloc303.</summary>
public sealed class ErrorPageConfigTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("halua-errorfile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string File(string name, string content)
    {
        string path = Path.Combine(_dir, name);
        System.IO.File.WriteAllText(path, content);
        return path;
    }

    [Fact]
    public void ErrorPages_FileSentAsIs_ErrorlocRedirects_DefaultsInheritedPerCode()
    {
        string page = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\noops\n";
        string path = File("503.http", page);
        string text = $"defaults\n    errorfile 503 {path}\n    errorloc 502 http://x/502\nfrontend fe\n    errorloc303 503 /sorry\nbackend be\n    errorfile 408 /dev/null\n";

        var fe = Proxy(text, "fe");
        Assert.Equal("HTTP/1.1 303 See Other\r\ncontent-length: 0\r\nlocation: /sorry\r\ncache-control: no-cache\r\n\r\n", Encoding.ASCII.GetString(fe.ErrorPages[503]));
        Assert.StartsWith("HTTP/1.1 302 Found\r\n", Encoding.ASCII.GetString(fe.ErrorPages[502]), StringComparison.Ordinal);

        var be = Proxy(text, "be");
        Assert.Equal(page, Encoding.ASCII.GetString(be.ErrorPages[503]));
        Assert.Empty(be.ErrorPages[408]);
        Assert.Equal([408, 502, 503], be.ErrorPages.Keys.Order());
    }

    [Theory]
    [InlineData("backend be", "errorfile 999 /dev/null", "errorfile", "status code '999' not handled")]
    [InlineData("backend be", "errorfile 302 /dev/null", "errorfile", "status code '302' not handled")]
    [InlineData("backend be", "errorfile 503", "errorfile", "'errorfile' expects 2 argument(s)")]
    [InlineData("backend be", "errorfile 503 /nonexistent/503.http", "errorfile", "error opening file '/nonexistent/503.http'")]
    [InlineData("backend be", "errorloc 999 http://x", "errorloc", "status code '999' not handled")]
    public void BadLine_IsAnErrorNamingFileLineAndKeyword(string section, string line, string keyword, string message)
        => AssertLineRefused(section, line, keyword, message);

    [Theory]
    [InlineData("garbage\r\n\r\n", "unable to parse headers")]
    [InlineData("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n", "unable to parse headers")]
    [InlineData("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100\r\n\r\noops\n", "payload size does not match the announced content-length (5 != 100)")]
    public void Errorfile_NotAResponse_IsAnError(string content, string message)
    {
        string path = File("bad.http", content);
        AssertLineRefused("backend be", $"errorfile 503 {path}", "errorfile", $"'{path}': {message}");
    }
}
