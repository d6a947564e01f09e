using System.Collections.Frozen;
using HaLua.DataPlane.Samples;
using HaLua.DataPlane.Stats;

namespace HaLua.DataPlane.Logging;

/// <summary>HAProxy's log-format variables (configuration.txt 8.2.4), by their meaning.</summary>
internal enum LogVariable : byte
{
    ClientIp, ClientPort, FrontendIp, FrontendPort, BackendSourceIp, BackendSourcePort, ServerIp, ServerPort,
    AcceptDate, RequestDate, AcceptDateGmt, RequestDateGmt, AcceptDateLocal, RequestDateLocal, Timestamp, Milliseconds,
    Frontend, FrontendTransport, Backend, Server,
    Th, Ti, TR, Tq, Tw, Tc, Tr, Td, Ta, Tt, Tu,
    Status, BytesOut, BytesIn, RequestCookie, ResponseCookie, TerminationState, TerminationStateCookies,
    ActiveConnections, FrontendConnections, BackendConnections, ServerConnections, Retries, ServerQueue, BackendQueue,
    RequestHeaders, ResponseHeaders, RequestHeaderList, ResponseHeaderList,
    Request, Method, Uri, Path, PathOnly, Query, Version,
    RequestCounter, LogCounter, Pid, Hostname, UniqueId, SslCipher, SslVersion,
}

/// <summary>Names, HTTP-only variables and how each one is written.</summary>
internal static partial class LogVariables
{
    private static readonly FrozenDictionary<string, LogVariable> Names = new Dictionary<string, LogVariable>(StringComparer.Ordinal)
    {
        ["ci"] = LogVariable.ClientIp, ["cp"] = LogVariable.ClientPort, ["fi"] = LogVariable.FrontendIp, ["fp"] = LogVariable.FrontendPort,
        ["bi"] = LogVariable.BackendSourceIp, ["bp"] = LogVariable.BackendSourcePort, ["si"] = LogVariable.ServerIp, ["sp"] = LogVariable.ServerPort,
        ["t"] = LogVariable.AcceptDate, ["tr"] = LogVariable.RequestDate, ["T"] = LogVariable.AcceptDateGmt, ["trg"] = LogVariable.RequestDateGmt,
        ["Tl"] = LogVariable.AcceptDateLocal, ["trl"] = LogVariable.RequestDateLocal, ["Ts"] = LogVariable.Timestamp, ["ms"] = LogVariable.Milliseconds,
        ["f"] = LogVariable.Frontend, ["ft"] = LogVariable.FrontendTransport, ["b"] = LogVariable.Backend, ["s"] = LogVariable.Server,
        ["Th"] = LogVariable.Th, ["Ti"] = LogVariable.Ti, ["TR"] = LogVariable.TR, ["Tq"] = LogVariable.Tq, ["Tw"] = LogVariable.Tw,
        ["Tc"] = LogVariable.Tc, ["Tr"] = LogVariable.Tr, ["Td"] = LogVariable.Td, ["Ta"] = LogVariable.Ta, ["Tt"] = LogVariable.Tt, ["Tu"] = LogVariable.Tu,
        ["ST"] = LogVariable.Status, ["B"] = LogVariable.BytesOut, ["U"] = LogVariable.BytesIn,
        ["CC"] = LogVariable.RequestCookie, ["CS"] = LogVariable.ResponseCookie, ["ts"] = LogVariable.TerminationState, ["tsc"] = LogVariable.TerminationStateCookies,
        ["ac"] = LogVariable.ActiveConnections, ["fc"] = LogVariable.FrontendConnections, ["bc"] = LogVariable.BackendConnections,
        ["sc"] = LogVariable.ServerConnections, ["rc"] = LogVariable.Retries, ["sq"] = LogVariable.ServerQueue, ["bq"] = LogVariable.BackendQueue,
        ["hr"] = LogVariable.RequestHeaders, ["hs"] = LogVariable.ResponseHeaders, ["hrl"] = LogVariable.RequestHeaderList, ["hsl"] = LogVariable.ResponseHeaderList,
        ["r"] = LogVariable.Request, ["HM"] = LogVariable.Method, ["HU"] = LogVariable.Uri, ["HP"] = LogVariable.Path, ["HPO"] = LogVariable.PathOnly,
        ["HQ"] = LogVariable.Query, ["HV"] = LogVariable.Version,
        ["rt"] = LogVariable.RequestCounter, ["lc"] = LogVariable.LogCounter, ["pid"] = LogVariable.Pid, ["H"] = LogVariable.Hostname,
        ["ID"] = LogVariable.UniqueId, ["sslc"] = LogVariable.SslCipher, ["sslv"] = LogVariable.SslVersion,
    }.ToFrozenDictionary(StringComparer.Ordinal);

    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

    private static readonly byte[] HostName = System.Text.Encoding.UTF8.GetBytes(Environment.MachineName);

    private static readonly int ProcessId = Environment.ProcessId;

    public static IEnumerable<string> All => Names.Keys;

    public static LogVariable? Find(string name) => Names.TryGetValue(name, out var v) ? v : null;

    /// <summary>HAProxy refuses these outside <c>mode http</c>.</summary>
    public static bool IsHttpOnly(LogVariable v) => v is LogVariable.RequestCookie or LogVariable.ResponseCookie
        or LogVariable.Ta or LogVariable.Ti or LogVariable.Tq or LogVariable.Tr or LogVariable.TR
        or LogVariable.Request or LogVariable.Method or LogVariable.Uri or LogVariable.Path or LogVariable.PathOnly or LogVariable.Query or LogVariable.Version
        or LogVariable.RequestDate or LogVariable.RequestDateGmt or LogVariable.RequestDateLocal;

    public static void Write(LogBuffer b, LogVariable v, LogOptions o, ISampleContext ctx, StreamLog? log)
    {
        bool hex = (o & LogOptions.Hex) != 0;
        switch (v)
        {
            case LogVariable.ClientIp:
                Address(b, ctx.Source?.Address, o);
                return;
            case LogVariable.ClientPort:
                Port(b, ctx.Source, o);
                return;
            case LogVariable.FrontendIp:
                Address(b, ctx.Destination?.Address, o);
                return;
            case LogVariable.FrontendPort:
                Port(b, ctx.Destination, o);
                return;
            case LogVariable.BackendSourceIp:
                Address(b, log?.ServerLocal?.Address, o);
                return;
            case LogVariable.BackendSourcePort:
                Port(b, log?.ServerLocal, o);
                return;
            case LogVariable.ServerIp:
                Address(b, log?.Server?.Address.Address, o);
                return;
            case LogVariable.ServerPort:
                Port(b, log?.Server?.Address, o);
                return;
            case LogVariable.AcceptDate or LogVariable.RequestDate:
                Date(b, DateTimeOffset.FromUnixTimeMilliseconds(When(log, v == LogVariable.RequestDate)).ToLocalTime(), millis: true, zone: false);
                return;
            case LogVariable.AcceptDateGmt or LogVariable.RequestDateGmt:
                Date(b, DateTimeOffset.FromUnixTimeMilliseconds(When(log, v == LogVariable.RequestDateGmt)), millis: false, zone: true);
                return;
            case LogVariable.AcceptDateLocal or LogVariable.RequestDateLocal:
                Date(b, DateTimeOffset.FromUnixTimeMilliseconds(When(log, v == LogVariable.RequestDateLocal)).ToLocalTime(), millis: false, zone: true);
                return;
            case LogVariable.Timestamp:
                Number(b, When(log, request: false) / 1000, hex, 4);
                return;
            case LogVariable.Milliseconds:
                long ms = When(log, request: false) % 1000;
                if (hex)
                {
                    b.AppendHex((ulong)ms, 2);
                }
                else
                {
                    b.AppendPadded((int)ms, 3);
                }

                return;
            case LogVariable.Frontend:
                WriteText(b, ctx.FrontendName, o);
                return;
            case LogVariable.FrontendTransport:
                // HAProxy appends '~' for TLS listeners; HaLua has none.
                Quoted(b, o);
                b.Append(ctx.FrontendName);
                Quoted(b, o);
                return;
            case LogVariable.Backend:
                WriteText(b, log?.Backend?.Name ?? ctx.BackendName ?? ctx.FrontendName, o);
                return;
            case LogVariable.Server:
                if (log?.ServiceName is { } service)
                {
                    Quoted(b, o);
                    b.Append("<lua."u8);
                    b.Append(service);
                    b.Append((byte)'>');
                    Quoted(b, o);
                    return;
                }

                WriteText(b, log?.Server?.Name ?? ctx.ServerName ?? "<NOSRV>", o);
                return;
            case >= LogVariable.Th and <= LogVariable.Tu:
                b.AppendNumber(Timer(log, v));
                return;
            case LogVariable.Status:
                b.AppendNumber(log?.Status ?? -1);
                return;
            case LogVariable.BytesOut:
                b.AppendNumber(log?.BytesOut ?? 0);
                return;
            case LogVariable.BytesIn:
                b.AppendNumber(log?.BytesIn ?? 0);
                return;
            case LogVariable.RequestCookie or LogVariable.ResponseCookie or LogVariable.UniqueId or LogVariable.SslCipher or LogVariable.SslVersion:
                // No cookie capture, no unique-id-format, no TLS: HAProxy's missing value.
                WriteText(b, ReadOnlySpan<char>.Empty, o);
                return;
            case LogVariable.TerminationState or LogVariable.TerminationStateCookies:
                b.Append((byte)(log is { Cause: not '\0' and var cause } ? cause : '-'));
                b.Append((byte)(log is { Phase: not '\0' and var phase } ? phase : '-'));
                if (v == LogVariable.TerminationStateCookies)
                {
                    b.Append("--"u8);
                }

                return;
            case LogVariable.ActiveConnections:
                b.AppendNumber(Volatile.Read(ref ProcessCounters.ActiveConnections));
                return;
            case LogVariable.FrontendConnections:
                b.AppendNumber(log is null ? 0 : Volatile.Read(ref log.Frontend.FrontendCounters.Scur));
                return;
            case LogVariable.BackendConnections:
                b.AppendNumber(log?.Backend?.Backend is { } be ? Volatile.Read(ref be.Counters.Scur) : 0);
                return;
            case LogVariable.ServerConnections:
                b.AppendNumber(log?.Server is { } srv ? Volatile.Read(ref srv.Counters.Scur) : 0);
                return;
            case LogVariable.Retries:
                if (log is { Redispatched: true })
                {
                    b.Append((byte)'+');
                }

                b.AppendNumber(log?.Retries ?? 0);
                return;
            case LogVariable.ServerQueue or LogVariable.BackendQueue:
                // Queue positions are not tracked: a stream that waited shows 0 too.
                b.AppendNumber(0L);
                return;
            case LogVariable.RequestHeaders or LogVariable.ResponseHeaders or LogVariable.RequestHeaderList or LogVariable.ResponseHeaderList:
                // Header captures are not supported: HAProxy writes nothing without captures.
                return;
            case >= LogVariable.Request and <= LogVariable.Version:
                RequestPart(b, v, o, log);
                return;
            case LogVariable.RequestCounter:
                Number(b, log?.RequestId ?? 0, hex, 4);
                return;
            case LogVariable.LogCounter:
                Number(b, log?.Frontend.Log?.Count ?? 0, hex, 4);
                return;
            case LogVariable.Pid:
                Number(b, ProcessId, hex, 4);
                return;
            case LogVariable.Hostname:
                WriteText(b, HostName, o);
                return;
        }
    }
}
