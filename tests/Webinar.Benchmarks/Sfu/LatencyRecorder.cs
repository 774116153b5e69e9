using System.Diagnostics;
using Webinar.Connector.Client;

namespace Webinar.Benchmarks.Sfu;

/// <summary>
/// Attached to a subscriber's <see cref="WebRtcClient.RtpReceived"/>: one-way latency of every stamped packet (keyed
/// by its send ticks, so two subscribers' samples pair up per packet) while recording, and the arrival of the first
/// packet of each tag. Runs on the client's receive thread; readers take the lock.
/// </summary>
internal sealed class LatencyRecorder
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, long> _latencyBySendTicks = [];
    private readonly Dictionary<int, long> _firstArrivalByTag = [];
    private volatile bool _recording;

    public void Attach(WebRtcClient client) => client.RtpReceived = OnRtp;

    public void StartRecording()
    {
        lock (_gate)
        {
            _latencyBySendTicks.Clear();
        }

        _recording = true;
    }

    public void StopRecording() => _recording = false;

    public Dictionary<long, long> Samples()
    {
        lock (_gate)
        {
            return new Dictionary<long, long>(_latencyBySendTicks);
        }
    }

    /// <summary>Waits for the first packet stamped <paramref name="tag"/>; its arrival in Stopwatch ticks, or null on timeout.</summary>
    public async Task<long?> FirstArrivalAsync(int tag, TimeSpan timeout)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            lock (_gate)
            {
                if (_firstArrivalByTag.TryGetValue(tag, out long arrival))
                {
                    return arrival;
                }
            }

            await Task.Delay(2);
        }

        return null;
    }

    private void OnRtp(ReceivedStats source, ReadOnlySpan<byte> rtpPacket)
    {
        long now = Stopwatch.GetTimestamp();
        if (!MediaStamp.TryRead(rtpPacket, out int tag, out long sent))
        {
            return;
        }

        lock (_gate)
        {
            _firstArrivalByTag.TryAdd(tag, now);
            if (_recording)
            {
                _latencyBySendTicks[sent] = now - sent;
            }
        }
    }
}
