using System.Security.Cryptography.X509Certificates;
using Grpc.Core;

namespace HaLua.Sdk.Haluactl;

/// <summary><c>haluactl</c>: global options, then a command run on every data plane given.</summary>
internal static class Program
{
    public const string Usage = """
        Usage: haluactl [options] <command> [arguments]

        Options (before the command):
          --addr HOST:PORT[,HOST:PORT...]  admin endpoints (repeatable; default $HALUACTL_ADDR or 127.0.0.1:9400)
          --token TOKEN | --token-file F   bearer token (default $HALUACTL_TOKEN)
          --tls                            use TLS
          --ca F                           PEM CA of the server certificate
          --cert F --key F                 PEM client certificate and key (mutual TLS)
          --insecure                       accept any server certificate
          --timeout SECONDS                per call (default 30)

        Commands:
          proxy list | get NAME | pause NAME | resume NAME | stop NAME | shut-backup NAME | stats NAME
          server list [BACKEND] | get B/S | stats B/S | set-weight B/S WEIGHT|N% | set-addr B/S ADDR [PORT]
                 | set-state B/S ready|drain|maint | health B/S enable|disable|up|nolb|down
                 | agent B/S enable|disable|up|down | shutdown-sessions B/S
                 | add B/S ADDR:PORT [weight N] [backup] [check] [enabled] | del B/S
          map list | show MAP [VERSION] | lookup MAP KEY [METHOD] | set MAP KEY VALUE | add MAP KEY VALUE
              | del MAP KEY | clear MAP | replace MAP FILE
          acl list | show ACL [VERSION] | lookup ACL VALUE [METHOD] | add ACL PATTERN | del ACL PATTERN
              | clear ACL | replace ACL FILE
          lua reload [DIR] | status
          cli "COMMAND"          any runtime command (HAProxy's, or a Lua core.register_cli one)
          info                   show info
          stat [PROXY]           show stat (CSV)
          watch                  stream runtime events until interrupted

        With several addresses, each output line starts with [ADDRESS], and the exit code is 1 if any failed.
        """;

    public static async Task<int> Main(string[] args)
    {
        var addresses = new List<string>();
        string? token = Environment.GetEnvironmentVariable("HALUACTL_TOKEN");
        bool tls = false, insecure = false;
        string? ca = null, cert = null, key = null;
        double timeout = 30;
        int i = 0;
        try
        {
            for (; i < args.Length && args[i].StartsWith("--", StringComparison.Ordinal); i++)
            {
                string opt = args[i];
                string Value() => ++i < args.Length ? args[i] : throw new UsageException($"{opt} needs a value");
                switch (opt)
                {
                    case "--addr":
                        addresses.AddRange(Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
                        break;
                    case "--token":
                        token = Value();
                        break;
                    case "--token-file":
                        token = File.ReadAllText(Value()).Trim();
                        break;
                    case "--tls":
                        tls = true;
                        break;
                    case "--ca":
                        ca = Value();
                        break;
                    case "--cert":
                        cert = Value();
                        break;
                    case "--key":
                        key = Value();
                        break;
                    case "--insecure":
                        insecure = true;
                        break;
                    case "--timeout":
                        timeout = double.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture);
                        break;
                    case "--help":
                        Console.WriteLine(Usage);
                        return 0;
                    default:
                        throw new UsageException($"unknown option '{opt}'");
                }
            }

            if (i >= args.Length)
            {
                throw new UsageException("no command");
            }

            if (addresses.Count == 0)
            {
                addresses.AddRange((Environment.GetEnvironmentVariable("HALUACTL_ADDR") ?? "127.0.0.1:9400").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
            }

            var clientCert = cert is null ? null : X509Certificate2.CreateFromPemFile(cert, key);
            var serverCa = ca is null ? null : X509CertificateLoader.LoadCertificateFromFile(ca);
            var options = addresses.Select(a => new HaLuaAdminClientOptions
            {
                Address = a,
                Token = token,
                UseTls = tls || clientCert is not null || serverCa is not null,
                ClientCertificate = clientCert,
                ServerCa = serverCa,
                SkipServerCertificateValidation = insecure,
                Timeout = TimeSpan.FromSeconds(timeout),
            });
            using var fleet = new HaLuaAdminFleet(options);
            using var cts = new CancellationTokenSource();
            Console.CancelKeyPress += (_, e) =>
            {
                e.Cancel = true;
                cts.Cancel();
            };
            return await Commands.RunAsync(fleet, args[i..], cts.Token);
        }
        catch (UsageException ex)
        {
            Console.Error.WriteLine($"haluactl: {ex.Message}");
            Console.Error.WriteLine(Usage);
            return 2;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or System.Security.Cryptography.CryptographicException)
        {
            Console.Error.WriteLine($"haluactl: {ex.Message}");
            return 2;
        }
    }
}

internal sealed class UsageException(string message) : Exception(message);
