using HaLua.DataPlane.Http;

namespace HaLua.DataPlane.Streams;

/// <summary>The error responses HaLua sends: <c>errorfile</c>/<c>errorloc</c> pages before its built-in ones.</summary>
internal sealed partial class HttpStream
{
    /// <summary>
    /// HAProxy's precedence: the page of the backend chosen for this request, else the frontend's,
    /// else the built-in page (a bare status line for codes without one).
    /// </summary>
    private ReadOnlyMemory<byte> ErrorPage(int status)
        => _backend is { } be && be.TryGetErrorPage(status, out var page) || _frontend.TryGetErrorPage(status, out page)
            ? page
            : HttpResponses.Deny(status);
}
