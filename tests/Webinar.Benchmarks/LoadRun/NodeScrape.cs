using System.Globalization;

namespace Webinar.Benchmarks.LoadRun;

/// <summary>The figures a load run reads from a node's Prometheus endpoint (/metrics).</summary>
internal sealed record NodeScrape(double Forwarded, double ServerHandshakes, double ServerHandshakeFailures, double WorkerCpuSeconds, double MediaBusy, double MediaCpuSeconds, IReadOnlyDictionary<string, double> FailuresByOutcome)
{
    /// <summary>Every webinar_sfu_* series (name with labels → value), for what changed over a window.</summary>
    public IReadOnlyDictionary<string, double> Series { get; init; } = new Dictionary<string, double>();

    /// <summary>The counters that moved between two scrapes, "name{labels} +delta", the media forwarding ones.</summary>
    public static string Changed(NodeScrape before, NodeScrape after, params string[] prefixes) => string.Join(", ",
        after.Series.Where(s => prefixes.Any(p => s.Key.StartsWith(p, StringComparison.Ordinal)))
            .Select(s => (s.Key, Delta: s.Value - before.Series.GetValueOrDefault(s.Key)))
            .Where(s => s.Delta != 0)
            .Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key} {s.Delta:+0;-0}")));

    /// <summary>NACKs the node sent upstream (to publishers and relay links).</summary>
    public double NacksSent { get; init; }

    /// <summary>Packets the node resent in answer to NACKs.</summary>
    public double Retransmitted { get; init; }

    public static async Task<NodeScrape> ReadAsync(HttpClient http, Uri metrics)
    {
        var text = await http.GetStringAsync(metrics);
        double forwarded = 0, ok = 0, failed = 0, worker = 0, busy = 0, media = 0, nacks = 0, retransmitted = 0;
        var byOutcome = new Dictionary<string, double>();
        var series = new Dictionary<string, double>();
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            if (space < 0 || !double.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                continue;
            }

            var name = line[..space];
            if (name.StartsWith("webinar_sfu_", StringComparison.Ordinal))
            {
                series[name] = value;
            }

            if (name.StartsWith("webinar_sfu_rtp_forwarded_total", StringComparison.Ordinal))
            {
                forwarded += value;
            }
            else if (name.StartsWith("webinar_dtls_handshakes_total", StringComparison.Ordinal) && name.Contains("role=\"server\"", StringComparison.Ordinal))
            {
                if (name.Contains("outcome=\"ok\"", StringComparison.Ordinal))
                {
                    ok += value;
                }
                else
                {
                    failed += value;
                    int at = name.IndexOf("outcome=\"", StringComparison.Ordinal) + "outcome=\"".Length;
                    string outcome = name[at..name.IndexOf('"', at)];
                    byOutcome[outcome] = byOutcome.GetValueOrDefault(outcome) + value;
                }
            }
            else if (name.StartsWith("webinar_dtls_server_workers_cpu_time", StringComparison.Ordinal))
            {
                worker += value;
            }
            else if (name.StartsWith("webinar_sfu_nacks_sent_total", StringComparison.Ordinal))
            {
                nacks += value;
            }
            else if (name.StartsWith("webinar_sfu_rtp_retransmitted_total", StringComparison.Ordinal))
            {
                retransmitted += value;
            }
            else if (name.StartsWith("webinar_sfu_media_thread_busy", StringComparison.Ordinal))
            {
                busy = value;
            }
            else if (name.StartsWith("webinar_sfu_media_thread_cpu_time", StringComparison.Ordinal))
            {
                media += value;
            }
        }

        return new NodeScrape(forwarded, ok, failed, worker, busy, media, byOutcome) { Series = series, NacksSent = nacks, Retransmitted = retransmitted };
    }

    /// <summary>Failed server handshakes between two scrapes, by outcome ("timeout: 12, peer_alert: 1").</summary>
    public static string FailuresBetween(NodeScrape before, NodeScrape after) => string.Join(", ",
        after.FailuresByOutcome.Select(f => (f.Key, Count: f.Value - before.FailuresByOutcome.GetValueOrDefault(f.Key)))
            .Where(f => f.Count > 0).Select(f => string.Create(CultureInfo.InvariantCulture, $"{f.Key}: {f.Count:0}")));
}
