using HaLua.DataPlane.Http;

namespace HaLua.DataPlane.Config;

/// <summary><c>errorfile</c>, <c>errorloc</c>, <c>errorloc302</c> and <c>errorloc303</c>.</summary>
internal sealed partial class ConfigParser
{
    /// <summary>The status codes HAProxy 2.6 accepts an error page for.</summary>
    private static readonly int[] ErrorPageCodes = [200, 400, 401, 403, 404, 405, 407, 408, 410, 413, 421, 425, 429, 500, 501, 502, 503, 504];

    /// <summary>HAProxy's tune.bufsize: an error page must fit in one buffer.</summary>
    private const int MaxErrorPageSize = 16384;

    /// <summary>
    /// <c>errorfile CODE FILE</c>: FILE is a whole HTTP response, checked now and sent as it is
    /// (an empty file sends nothing). <c>errorloc[302|303] CODE URL</c>: a redirect to URL.
    /// </summary>
    private void ParseErrorPage(ConfigLine line, ProxyBuilder px)
    {
        var w = line.Words;
        string kw = w[0];
        if (!Allowed(line, px, Where.All) || !Args(line, 2))
        {
            return;
        }

        if (!ConfigValues.TryParseInt(w[1], 100, 999, out int code) || !ErrorPageCodes.Contains(code))
        {
            Error(line.Location, kw, $"status code '{w[1]}' not handled (one of {string.Join(", ", ErrorPageCodes)})");
            return;
        }

        if (kw != "errorfile")
        {
            px.ErrorPages[code] = HttpResponses.Redirect(kw == "errorloc303" ? 303 : 302, w[2]);
            return;
        }

        byte[] page;
        try
        {
            page = File.ReadAllBytes(w[2]);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Error(line.Location, kw, $"error opening file '{w[2]}': {ex.Message}");
            return;
        }

        if (CheckErrorPage(page) is { } problem)
        {
            Error(line.Location, kw, $"'{w[2]}': {problem}");
            return;
        }

        px.ErrorPages[code] = page;
    }

    /// <summary>Null when <paramref name="page"/> is a complete response (or empty), else what is wrong with it.</summary>
    private static string? CheckErrorPage(byte[] page)
    {
        if (page.Length == 0)
        {
            return null;
        }

        if (page.Length > MaxErrorPageSize)
        {
            return $"file too large ({page.Length} bytes, at most {MaxErrorPageSize})";
        }

        var head = new HttpHead();
        var status = HttpParser.ParseResponse(page, head, MaxErrorPageSize, requestWasHead: false, out string? error);
        if (status != HttpParseStatus.Done)
        {
            return $"unable to parse headers ({error ?? "incomplete head"})";
        }

        long payload = page.Length - head.Length;
        if (head.Framing is BodyFraming.ContentLength or BodyFraming.None && head.ContentLength >= 0 && payload != head.ContentLength)
        {
            return $"payload size does not match the announced content-length ({payload} != {head.ContentLength})";
        }

        return null;
    }
}
