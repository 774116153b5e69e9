using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Webinar.TestSupport.Janus;

/// <summary>
/// A private Janus 1.1 (Debian's /usr/bin/janus) for interop tests and load runs: a temp folder with a minimal
/// configuration — only the plain HTTP REST transport on a free loopback port, only the echotest and videoroom plugins,
/// ICE-lite, no STUN, IPv4 only, candidates on one local address of this host, a private RTP port range — and the
/// child process started with <c>janus -C cfg -F folder</c>. Disposing kills it and removes the folder.
/// </summary>
/// <remarks>
/// Janus never gathers loopback candidates (it skips loopback interfaces), so its host candidate is this machine's first
/// non-loopback IPv4 address; datagrams to a local address never leave the host (Linux routes them over lo).
/// </remarks>
public sealed class JanusServer : IAsyncDisposable
{
    public const string DefaultBinary = "/usr/bin/janus";
    private const string LibraryFolder = "/usr/lib/x86_64-linux-gnu/janus";

    private readonly Process _process;
    private readonly HttpClient _http;
    private readonly StreamWriter _log;

    private JanusServer(Process process, string folder, Uri baseUri, HttpClient http, StreamWriter log, IPAddress iceAddress)
    {
        IceAddress = iceAddress;
        _process = process;
        Folder = folder;
        BaseUri = baseUri;
        _http = http;
        _log = log;
    }

    public int ProcessId => _process.Id;

    /// <summary>
    /// The local address Janus's host candidate is on. Clients bind here: libnice sends from a socket tied to that
    /// interface, so its answers to a 127.0.0.1 source would be dropped as martians.
    /// </summary>
    public IPAddress IceAddress { get; }

    public string Folder { get; }

    public string LogPath => Path.Combine(Folder, "janus.log");

    /// <summary>http://127.0.0.1:port/janus</summary>
    public Uri BaseUri { get; }

    public bool HasExited => _process.HasExited;

    /// <summary>Starts Janus and waits until its REST API answers. Throws with the log tail when it does not.</summary>
    public static async Task<JanusServer> StartAsync(TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        string binary = Environment.GetEnvironmentVariable("WEBINAR_JANUS") ?? DefaultBinary;
        if (!File.Exists(binary))
        {
            throw new InvalidOperationException(
                $"Janus is not installed ({binary} is missing): infra/test installs the Debian package 'janus' (apt-get install -y janus).");
        }

        string folder = Directory.CreateTempSubdirectory("webinar-janus-").FullName;
        int httpPort = FreeTcpPort();
        // One UDP port per PeerConnection (BUNDLE): a range of 100 ran out at ~100 subscribers, and Janus then never sent
        // the subscriber's offer ("No matching Janus event within 15 s"). 1000 ports hold a full meeting and more.
        int rtpBase = 20000 + (Random.Shared.Next(0, 40) * 1000);
        string iceAddress = LocalIPv4Address();
        WriteConfiguration(folder, httpPort, rtpBase, iceAddress);

        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string debugLevel = Environment.GetEnvironmentVariable("WEBINAR_JANUS_DEBUG_LEVEL") ?? "3";
        foreach (string argument in new[] { "-C", Path.Combine(folder, "janus.jcfg"), "-F", folder, "-o", "-d", debugLevel })
        {
            start.ArgumentList.Add(argument);
        }

        if (Environment.GetEnvironmentVariable("WEBINAR_JANUS_LIBNICE_DEBUG") == "1")
        {
            start.ArgumentList.Add("-l");
            start.Environment["G_MESSAGES_DEBUG"] = "libnice,libnice-stun";
        }

        var log = new StreamWriter(Path.Combine(folder, "janus.log")) { AutoFlush = true };
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        process.OutputDataReceived += (_, e) => WriteLog(log, e.Data);
        process.ErrorDataReceived += (_, e) => WriteLog(log, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var baseUri = new Uri($"http://127.0.0.1:{httpPort.ToString(CultureInfo.InvariantCulture)}/janus");
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(40) };
        var server = new JanusServer(process, folder, baseUri, http, log, IPAddress.Parse(iceAddress));
        var deadline = Stopwatch.StartNew();
        var limit = timeout ?? TimeSpan.FromSeconds(20);
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (process.HasExited)
            {
                string tail = server.LogTail();
                await server.DisposeAsync();
                throw new InvalidOperationException($"Janus exited at start (code {process.ExitCode}):\n{tail}");
            }

            try
            {
                using var response = await http.GetAsync(new Uri(baseUri + "/info"), cancellationToken);
                if (response.IsSuccessStatusCode)
                {
                    return server;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (deadline.Elapsed > limit)
            {
                string tail = server.LogTail();
                await server.DisposeAsync();
                throw new TimeoutException($"Janus did not answer on {baseUri} within {limit.TotalSeconds:0} s:\n{tail}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>A new Janus session with its own long-poll loop.</summary>
    public async Task<JanusSession> CreateSessionAsync(CancellationToken cancellationToken = default) =>
        await JanusSession.CreateAsync(_http, BaseUri, cancellationToken);

    /// <summary>Janus's user + system CPU time so far, from /proc/&lt;pid&gt;/stat (fields 14 and 15).</summary>
    public TimeSpan ReadCpuTime()
    {
        string stat = File.ReadAllText($"/proc/{_process.Id.ToString(CultureInfo.InvariantCulture)}/stat");
        // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        long utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
        long stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
        const double ClockTicksPerSecond = 100; // USER_HZ on Linux
        return TimeSpan.FromSeconds((utime + stime) / ClockTicksPerSecond);
    }

    public string LogTail(int lines = 40)
    {
        try
        {
            using var stream = new FileStream(LogPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
            using var reader = new StreamReader(stream);
            string[] all = reader.ReadToEnd().Split('\n');
            return string.Join('\n', all[Math.Max(0, all.Length - lines)..]);
        }
        catch (IOException)
        {
            return "(no log)";
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception exception) when (exception is InvalidOperationException or TimeoutException)
        {
            // Already gone, or stuck: nothing more to do from here.
        }

        _process.Dispose();
        _http.Dispose();
        lock (_log)
        {
            _log.Dispose();
        }

        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // A temp folder left behind is harmless.
        }
    }

    private static void WriteLog(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (log)
        {
            try
            {
                log.WriteLine(line);
            }
            catch (ObjectDisposedException)
            {
                // Output after the server was disposed.
            }
        }
    }

    private static void WriteConfiguration(string folder, int httpPort, int rtpBase, string iceAddress)
    {
        string plugins = "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,"
            + "libjanus_sip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so";
        string transports = "libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so,libjanus_websockets.so";
        File.WriteAllText(Path.Combine(folder, "janus.jcfg"), $$"""
            general: {
                configs_folder = "{{folder}}"
                plugins_folder = "{{LibraryFolder}}/plugins"
                transports_folder = "{{LibraryFolder}}/transports"
                events_folder = "{{LibraryFolder}}/events"
                loggers_folder = "{{LibraryFolder}}/loggers"
                                session_timeout = 120
                server_name = "webinar-interop"
            }
            certificates: {
            }
            media: {
                ipv6 = false
                rtp_port_range = "{{rtpBase}}-{{rtpBase + 999}}"
            }
            nat: {
                ice_lite = true
                ice_tcp = false
                full_trickle = false
                ignore_mdns = true
                ice_enforce_list = "{{iceAddress}}"
            }
            plugins: {
                disable = "{{plugins}}"
            }
            transports: {
                disable = "{{transports}}"
            }
            loggers: {
                disable = "libjanus_jsonlog.so"
            }
            events: {
                broadcast = false
            }
            """);
        File.WriteAllText(Path.Combine(folder, "janus.transport.http.jcfg"), $$"""
            general: {
                json = "plain"
                base_path = "/janus"
                http = true
                ip = "127.0.0.1"
                port = {{httpPort}}
                https = false
            }
            admin: {
                admin_http = false
            }
            """);
        File.WriteAllText(Path.Combine(folder, "janus.plugin.echotest.jcfg"), "general: {\n}\n");
        File.WriteAllText(Path.Combine(folder, "janus.plugin.videoroom.jcfg"), "general: {\n}\n");
    }

    private static int FreeTcpPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    /// <summary>The first up, non-loopback IPv4 address of this host (where Janus's host candidate lives).</summary>
    private static string LocalIPv4Address()
    {
        foreach (var nic in NetworkInterface.GetAllNetworkInterfaces())
        {
            if (nic.OperationalStatus != OperationalStatus.Up || nic.NetworkInterfaceType == NetworkInterfaceType.Loopback)
            {
                continue;
            }

            foreach (var unicast in nic.GetIPProperties().UnicastAddresses)
            {
                if (unicast.Address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(unicast.Address))
                {
                    return unicast.Address.ToString();
                }
            }
        }

        throw new InvalidOperationException("Janus needs a non-loopback IPv4 address on this host for its ICE candidate; there is none.");
    }
}
