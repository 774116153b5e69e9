using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Webinar.Media.Dtls;

/// <summary>
/// DTLS instruments (meter <see cref="MeterName"/>): handshakes by role and outcome, a handshake-time histogram, and the
/// server workers' CPU time and queue. Recorded once per handshake, never per packet.
/// </summary>
public static class DtlsMetrics
{
    public const string MeterName = "Webinar.Media.Dtls";

    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Handshakes = Meter.CreateCounter<long>(
        "webinar.dtls.handshakes", "{handshake}", "DTLS handshakes ended, by role and outcome (ok or the DtlsError).");

    private static readonly Histogram<double> HandshakeDuration = Meter.CreateHistogram(
        "webinar.dtls.handshake.duration",
        "s",
        "Time from the start of a successful DTLS handshake to its keys.",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });

    static DtlsMetrics()
    {
        Meter.CreateObservableCounter(
            "webinar.dtls.server_workers.cpu_time",
            static () => (DtlsHandshakeWorkers.Server.CpuTime + DtlsHandshakeWorkers.OpenSsl.CpuTime).TotalSeconds,
            "s",
            "CPU time the server handshake workers (BouncyCastle and OpenSSL) spent running handshakes.");
        Meter.CreateObservableGauge(
            "webinar.dtls.server_workers.queued",
            static () => DtlsHandshakeWorkers.Server.Queued + DtlsHandshakeWorkers.OpenSsl.Queued,
            "{handshake}",
            "Server handshakes (BouncyCastle) and OpenSSL server steps waiting for a worker.");
    }

    internal static void Succeeded(DtlsRole role, long startedTimestamp)
    {
        var tag = new KeyValuePair<string, object?>("role", RoleName(role));
        Handshakes.Add(1, tag, new KeyValuePair<string, object?>("outcome", "ok"));
        HandshakeDuration.Record(Stopwatch.GetElapsedTime(startedTimestamp).TotalSeconds, tag);
    }

    internal static void Failed(DtlsRole role, DtlsError error) =>
        Handshakes.Add(1, new KeyValuePair<string, object?>("role", RoleName(role)), new KeyValuePair<string, object?>("outcome", ErrorName(error)));

    private static string RoleName(DtlsRole role) => role == DtlsRole.Server ? "server" : "client";

    private static string ErrorName(DtlsError error) => error switch
    {
        DtlsError.Timeout => "timeout",
        DtlsError.Cancelled => "cancelled",
        DtlsError.FingerprintMismatch => "fingerprint_mismatch",
        DtlsError.NoCommonSrtpProfile => "no_common_srtp_profile",
        DtlsError.NoExtendedMasterSecret => "no_extended_master_secret",
        DtlsError.PeerAlert => "peer_alert",
        DtlsError.PeerClosed => "peer_closed",
        DtlsError.LocallyClosed => "locally_closed",
        _ => "protocol_error",
    };
}
