using Microsoft.Playwright;
using Webinar.Connector.Media;
using Webinar.Connector.Publishing;
using Webinar.Connector.Sessions;
using Webinar.Connector.Subscribing;
using Webinar.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;
using Webinar.TestSupport.Media;

namespace Webinar.EndToEnd.Tests.Connector;

/// <summary>
/// The C# connector as a server-side participant of real nodes, against real Chromium pages: it publishes a tone and a
/// moving pattern that the browser decodes and hears, and it receives and decodes the browser's fake camera and
/// microphone in a replica.
/// </summary>
public sealed class ConnectorTests(WebinarSystemFixture system, ChromiumFixture chromium, ITestOutputHelper output)
    : BrowserTest<WebinarSystemFixture>(system, chromium, output), IClassFixture<WebinarSystemFixture>, IClassFixture<ChromiumFixture>
{
    private static readonly TimeSpan MediaTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Chromium's fake microphone (--use-fake-device-for-media-stream) beeps a 400 Hz square wave.</summary>
    private const double FakeMicrophoneHz = 400;

    /// <summary>
    /// Page script: every received audio track goes through a WebAudio AnalyserNode; <c>window.audioPeak()</c> returns
    /// the strongest frequency and its level. The track is also attached to a muted &lt;audio&gt; element, without
    /// which Chromium hands WebAudio silence for a remote track.
    /// </summary>
    private const string AnalyseAudioScript = """
        () => {
          window.analysers = [];
          window.client.addEventListener('track', e => {
            if (e.detail.kind !== 'audio') return;
            const stream = new MediaStream([e.detail.track]);
            const element = new Audio(); element.muted = true; element.srcObject = stream; element.play().catch(() => {});
            const context = new AudioContext();
            const analyser = context.createAnalyser();
            analyser.fftSize = 8192;
            context.createMediaStreamSource(stream).connect(analyser);
            context.resume().catch(() => {});
            window.analysers.push({ context, analyser, element });
          });
          window.audioPeak = () => {
            let best = { hz: 0, db: -1000, state: 'none' };
            for (const a of window.analysers) {
              const bins = new Float32Array(a.analyser.frequencyBinCount);
              a.analyser.getFloatFrequencyData(bins);
              for (let i = 1; i < bins.length; i++) {
                if (bins[i] > best.db) best = { hz: i * a.context.sampleRate / a.analyser.fftSize, db: bins[i], state: a.context.state };
              }
            }
            return best;
          };
        }
        """;

    [Fact]
    public Task Chromium_decodes_the_connectors_moving_pattern_and_hears_its_440_hz_tone() => _system.RunAsync(_output, async () =>
    {
        var meeting = await _system.Api.CreateMeetingAsync("us-east-1");
        var viewer = await JoinAsync(meeting, "viewer", "Receive");
        await viewer.Page.EvaluateAsync(AnalyseAudioScript);
        var bot = await _system.Api.CreateAttendeeAsync(meeting.MeetingId, "tone-bot");

        await using var session = new Session();
        await session.ConnectAsync(new Uri(meeting.SignalingUrl), bot.JoinToken);
        Assert.False(session.Info!.IsReplica);
        Assert.Contains(session.Attendees, a => a.ExternalUserId == "viewer");
        var settings = new PublisherSettings { SampleRate = 48000, Channels = 2, Resolution = new(640, 360), Format = VideoFormat.Rgb24, FramesPerSecond = 30 };
        await using var publisher = await session.PublishAsync(settings);
        using var feeding = new CancellationTokenSource();
        var feeder = FeedAsync(publisher, settings, 440, feeding.Token);

        var first = await viewer.WaitForAsync(r => r.FramesDecoded > 10, MediaTimeout, "the connector's video in Chromium");
        var later = await viewer.WaitForAsync(r => r.FramesDecoded > first.FramesDecoded + 30, MediaTimeout, "more of the connector's frames");
        Assert.Equal((640, 360), (later.FrameWidth, later.FrameHeight));
        Assert.True(later.AudioPacketsReceived > 0, "no audio packets reached Chromium");

        var peak = await WaitForPeakAsync(viewer, p => Math.Abs(p.Hz - 440) < 15 && p.Db > -70, "a 440 Hz peak in Chromium's analyser");
        _output.WriteLine($"Chromium: {later.FramesDecoded} frames of {later.FrameWidth}x{later.FrameHeight}; audio peak {peak.Hz:0} Hz at {peak.Db:0} dB");
        Assert.Contains("+tone-bot", await viewer.PresenceAsync());
        Assert.True(publisher.KeyframesSent >= 1);
        await feeding.CancelAsync();
        await feeder;
    });

    [Fact]
    public Task A_connector_in_a_replica_receives_the_presenters_camera_as_yuv_and_the_fake_microphones_beep_as_pcm() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var replica = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var presenter = await JoinAsync(primary, "presenter");
        Assert.Equal(FakeCamera.Width, await presenter.PublishAsync());
        await presenter.MaintainResolutionAsync();
        var bot = await _system.Api.CreateAttendeeAsync(replica.MeetingId, "recorder-bot", "Receive");

        await using var session = new Session();
        var added = new List<RemoteStream>();
        session.StreamAdded += (_, e) => { lock (added) { added.Add(e.Stream); } };
        await session.ConnectAsync(new Uri(replica.SignalingUrl), bot.JoinToken);
        Assert.True(session.Info!.IsReplica);
        Assert.Contains(session.Attendees, a => a.ExternalUserId == "presenter");
        var streams = await WaitForStreamsAsync(session, "presenter");

        int frames = 0, width = 0, height = 0, formatSize = 0;
        var pcm = new List<short>();
        await using var video = session.Subscribe(streams.Video, new SubscriberSettings { Format = VideoFormat.Yuv420P });
        video.VideoReceived += (_, in f) =>
        {
            Interlocked.Increment(ref frames);
            (width, height, formatSize) = (f.Resolution.Width, f.Resolution.Height, f.Buffer.Length);
        };
        await using var audio = session.Subscribe(streams.Audio, new SubscriberSettings { SampleRate = 16000, Channels = 1 });
        int deliveredRate = 0;
        audio.AudioReceived += (_, in a) =>
        {
            deliveredRate = a.SampleRate;
            lock (pcm)
            {
                pcm.AddRange(a.Samples.Span);
            }
        };

        await WaitUntilAsync(() => Volatile.Read(ref frames) > 30 && Count(pcm) > 16000 * 3, "30 decoded frames and 3 s of audio at the connector",
            () => $"{frames} frames, {Count(pcm)} samples");
        _output.WriteLine($"connector: {frames} frames of {width}x{height}, {Count(pcm)} samples at 16 kHz");
        Assert.Equal((FakeCamera.Width, FakeCamera.Height), (width, height));
        Assert.Equal(VideoFormats.I420Size(width, height), formatSize);
        Assert.Equal(16000, deliveredRate);

        // The beep is short: find the loudest 20 ms window and its frequency.
        short[] samples;
        lock (pcm)
        {
            samples = [.. pcm];
        }

        int window = 320, loudest = 0;
        double loudestEnergy = 0;
        for (int start = 0; start + window <= samples.Length; start += window / 2)
        {
            double energy = 0;
            for (int i = start; i < start + window; i++)
            {
                energy += (double)samples[i] * samples[i];
            }

            if (energy > loudestEnergy)
            {
                (loudest, loudestEnergy) = (start, energy);
            }
        }

        var beep = samples.AsSpan(Math.Max(0, loudest - 160), Math.Min(640, samples.Length - Math.Max(0, loudest - 160)));
        double dominant = Signals.DominantFrequency(beep, 1, 16000);
        double rms = Math.Sqrt(loudestEnergy / window);
        _output.WriteLine($"fake microphone at the connector: dominant {dominant:0} Hz in the loudest 20 ms (RMS {rms:0})");
        Assert.True(rms > 500, $"the loudest 20 ms has RMS {rms:0}: no beep arrived");
        Assert.Equal(FakeMicrophoneHz, dominant, 20.0);
        Assert.True(Signals.PowerAt(beep, 1, 16000, FakeMicrophoneHz) > 10 * Signals.PowerAt(beep, 1, 16000, 1000));
    });

    /// <summary>
    /// A captioning or recording bot on a lossy network: 5 % of the node's datagrams to the connector are dropped on
    /// loopback (iptables' random statistic match, since this kernel has no netem), and the bot still gets nearly every
    /// frame the presenter encodes, because it asks for each lost packet again (NACK) and waits for it before giving up
    /// the frame. Without that, every loss would cost the frames up to the next key frame.
    /// </summary>
    [Fact]
    public Task A_connector_on_a_lossy_link_asks_for_lost_packets_again_and_keeps_nearly_every_frame() => _system.RunAsync(_output, async () =>
    {
        var meeting = await _system.Api.CreateMeetingAsync("us-east-1");
        var presenter = await JoinAsync(meeting, "presenter");
        await presenter.PublishAsync(width: 640, height: 360);
        var bot = await _system.Api.CreateAttendeeAsync(meeting.MeetingId, "caption-bot", "Receive");

        await using var session = new Session();
        await session.ConnectAsync(new Uri(meeting.SignalingUrl), bot.JoinToken);
        var streams = await WaitForStreamsAsync(session, "presenter");
        int frames = 0;
        await using var video = session.Subscribe(streams.Video, new SubscriberSettings { Format = VideoFormat.Yuv420P });
        video.VideoReceived += (_, in _) => Interlocked.Increment(ref frames);
        await WaitUntilAsync(() => Volatile.Read(ref frames) > 30, "30 decoded frames at the connector", () => $"{frames} frames");

        var port = session.Client!.LocalEndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string[] rule = ["OUTPUT", "-o", "lo", "-p", "udp", "--dport", port, "-m", "statistic", "--mode", "random", "--probability", "0.05", "-j", "DROP"];
        var (framesBefore, encodedBefore) = (Volatile.Read(ref frames), await presenter.VideoFramesEncodedAsync());
        var (nacksBefore, repairedBefore, lostBefore) = (session.Client.NacksSent, video.PacketsRepaired, video.PacketsLost);
        await RepositoryTools.RunAsync("iptables", ["-A", .. rule], null);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(10));
        }
        finally
        {
            await RepositoryTools.RunAsync("iptables", ["-D", .. rule], null);
        }

        await Task.Delay(TimeSpan.FromMilliseconds(500)); // the last holes: repaired or given up
        int delivered = Volatile.Read(ref frames) - framesBefore;
        long encoded = await presenter.VideoFramesEncodedAsync() - encodedBefore;
        long nacks = session.Client.NacksSent - nacksBefore, repaired = video.PacketsRepaired - repairedBefore, lost = video.PacketsLost - lostBefore;
        _output.WriteLine($"with 5 % loss for 10 s: {delivered} frames delivered of {encoded} encoded, {nacks} NACKs, {repaired} packets repaired, {lost} given up");
        Assert.True(nacks > 0, "the connector never asked for a lost packet");
        Assert.True(repaired > 0, "no lost packet was repaired");
        Assert.True(delivered >= encoded * 0.8, $"the connector delivered {delivered} of the {encoded} frames the presenter encoded ({repaired} repaired, {lost} given up)");
    });

    [Fact]
    public Task A_promoted_connector_is_seen_and_heard_by_the_presenter() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var replica = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var presenter = await JoinAsync(primary, "presenter");
        var bot = await _system.Api.CreateAttendeeAsync(replica.MeetingId, "agent-bot", "Receive");

        await using var session = new Session();
        await session.ConnectAsync(new Uri(replica.SignalingUrl), bot.JoinToken);
        Assert.False(session.CanPublish);
        await Assert.ThrowsAsync<InvalidOperationException>(() => session.PublishAsync());

        var speaker = await _system.Api.CreateAttendeeAsync(primary.MeetingId, "agent-speaker");
        await session.PromoteAsync(speaker.JoinToken);
        Assert.True(session.IsPromoted);
        var settings = new PublisherSettings { SampleRate = 16000, Channels = 1, Resolution = new(320, 240), Format = VideoFormat.Argb32, FramesPerSecond = 15 };
        await using (var publisher = await session.PublishAsync(settings))
        {
            using var feeding = new CancellationTokenSource();
            var feeder = FeedAsync(publisher, settings, 440, feeding.Token);
            await presenter.Page.WaitForFunctionAsync("window.presence.includes('+agent-speaker')", null, new PageWaitForFunctionOptions { Timeout = 20_000 });
            var received = await presenter.WaitForAsync(r => r.FramesDecoded > 15 && r.AudioPacketsReceived > 20, MediaTimeout, "the promoted connector's media at the presenter");
            Assert.Equal((320, 240), (received.FrameWidth, received.FrameHeight));
            await feeding.CancelAsync();
            await feeder;
        }

        await session.DemoteAsync();
        Assert.False(session.IsPromoted);
        await presenter.Page.WaitForFunctionAsync("window.presence.includes('-agent-speaker')", null, new PageWaitForFunctionOptions { Timeout = 20_000 });
    });

    [Fact]
    public Task The_example_bot_in_a_replica_records_the_presenters_audio_and_a_frame_per_second_and_prints_presence() => _system.RunAsync(_output, async () =>
    {
        var primary = await _system.Api.CreateMeetingAsync("us-east-1");
        var replica = await _system.Api.CreateMeetingAsync("eu-west-1", primary.MeetingId);
        var presenter = await JoinAsync(primary, "presenter");
        await presenter.PublishAsync();
        await presenter.MaintainResolutionAsync();
        var bot = await _system.Api.CreateAttendeeAsync(replica.MeetingId, "example-bot", "Receive");
        var directory = Directory.CreateTempSubdirectory("webinar-connector-example-").FullName;
        try
        {
            // In process (a fresh process JITs for long on a loaded machine), exactly as Program.cs drives it.
            var log = new StringWriter();
            var recorder = new Webinar.Connector.Example.RecorderBot(directory, "presenter", log);
            await using (recorder)
            {
                await recorder.StartAsync(new Uri(replica.SignalingUrl), bot.JoinToken, CancellationToken.None);
                await WaitUntilAsync(() => recorder.AudioWritten > TimeSpan.FromSeconds(4) && recorder.FramesWritten >= 3,
                    "4 s of audio and 3 frames written", () => $"{recorder.AudioWritten.TotalSeconds:0.0} s, {recorder.FramesWritten} frames; {log}");
            }

            var stdout = log.ToString();
            _output.WriteLine(stdout);
            Assert.Contains("present: presenter", stdout);
            Assert.Contains("(replica,", stdout);

            // The WAV: 48 kHz mono 16-bit, seconds long, with the fake microphone's beep in it.
            var wav = await File.ReadAllBytesAsync(Path.Combine(directory, "presenter.wav"));
            Assert.Equal("RIFF", System.Text.Encoding.ASCII.GetString(wav, 0, 4));
            Assert.Equal(48000, BitConverter.ToInt32(wav, 24));
            int dataBytes = BitConverter.ToInt32(wav, 40);
            Assert.Equal(wav.Length - 44, dataBytes);
            Assert.True(dataBytes > 48000 * 2 * 3, $"only {dataBytes} bytes of audio");
            var samples = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(wav.AsSpan(44));
            Assert.True(Signals.PowerAt(samples, 1, 48000, FakeMicrophoneHz) > 10 * Signals.PowerAt(samples, 1, 48000, 1000));

            // Frames: one a second, full size PPMs.
            var frames = Directory.GetFiles(directory, "frame-*.ppm");
            Assert.True(frames.Length >= 3);
            var header = System.Text.Encoding.ASCII.GetString(File.ReadAllBytes(frames[0]), 0, 16);
            Assert.StartsWith($"P6\n{FakeCamera.Width} {FakeCamera.Height}\n255\n", header);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    });

    /// <summary>Feeds 20 ms of tone and one pattern frame per frame interval, as an application would, until cancelled.</summary>
    private static Task FeedAsync(Publisher publisher, PublisherSettings settings, double frequency, CancellationToken cancellationToken) => Task.Run(async () =>
    {
        int chunk = settings.SampleRate / 50, frame = 0, audioFrames = 0;
        var started = DateTime.UtcNow;
        while (!cancellationToken.IsCancellationRequested)
        {
            var elapsed = DateTime.UtcNow - started;
            while (audioFrames < elapsed.TotalSeconds * settings.SampleRate + chunk)
            {
                var tone = Signals.Tone(frequency, settings.SampleRate, settings.Channels, chunk, audioFrames);
                publisher.AddAudio(new AudioData(tone, settings.SampleRate, settings.Channels, chunk));
                audioFrames += chunk;
            }

            while (frame < elapsed.TotalSeconds * settings.FramesPerSecond + 1)
            {
                var picture = Signals.Pattern(settings.Format, settings.Resolution.Width, settings.Resolution.Height, frame++);
                publisher.AddVideo(new VideoFrame(picture, settings.Resolution, settings.Format));
            }

            try
            {
                await Task.Delay(10, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }, CancellationToken.None);

    private static int Count(List<short> pcm)
    {
        lock (pcm)
        {
            return pcm.Count;
        }
    }

    private static async Task<(RemoteStream Audio, RemoteStream Video)> WaitForStreamsAsync(Session session, string user)
    {
        RemoteStream? audio = null, video = null;
        await WaitUntilAsync(() =>
        {
            audio = session.Streams.FirstOrDefault(s => s.Attendee.ExternalUserId == user && s.Kind == MediaKind.Audio);
            video = session.Streams.FirstOrDefault(s => s.Attendee.ExternalUserId == user && s.Kind == MediaKind.Video);
            return audio is not null && video is not null;
        }, $"{user}'s audio and video streams", () => string.Join(", ", session.Streams));
        return (audio!, video!);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what, Func<string> state)
    {
        var deadline = DateTime.UtcNow + MediaTimeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"Timed out after {MediaTimeout.TotalSeconds:0} s waiting for {what}; now: {state()}");
            }

            await Task.Delay(200);
        }
    }

    private sealed record Peak(double Hz, double Db, string State);

    private static async Task<Peak> WaitForPeakAsync(MeetingPage page, Func<Peak, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + MediaTimeout;
        while (true)
        {
            var r = await page.Page.EvaluateAsync<System.Text.Json.JsonElement>("window.audioPeak()");
            var peak = new Peak(r.GetProperty("hz").GetDouble(), r.GetProperty("db").GetDouble(), r.GetProperty("state").GetString() ?? "");
            if (condition(peak))
            {
                return peak;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new Xunit.Sdk.XunitException($"Timed out after {MediaTimeout.TotalSeconds:0} s waiting for {what}; last: {peak}");
            }

            await Task.Delay(250);
        }
    }
}
