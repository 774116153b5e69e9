using System.Text;
using Webinar.Connector.Media;
using Webinar.Connector.Sessions;
using Webinar.Connector.Subscribing;

namespace Webinar.Connector.Example;

/// <summary>
/// A recording bot: joins a meeting (typically a replica), prints presence and streams to <see cref="Log"/>, writes
/// the presenter's audio to <c>presenter.wav</c> (48 kHz mono) and one video frame per second to
/// <c>frame-NNNN.ppm</c> in <see cref="Directory"/>.
/// </summary>
public sealed class RecorderBot(string directory, string? presenter, TextWriter log) : IAsyncDisposable
{
    private readonly Session _session = new();
    private readonly Lock _gate = new();
    private readonly System.Diagnostics.Stopwatch _started = System.Diagnostics.Stopwatch.StartNew();
    private WavWriter? _wav;
    private Subscriber? _audio;
    private Subscriber? _video;
    private long _nextFrameAt;
    private int _framesWritten;

    public string Directory { get; } = directory;

    public TextWriter Log { get; } = log;

    public Session Session => _session;

    public int FramesWritten => Volatile.Read(ref _framesWritten);

    public TimeSpan AudioWritten
    {
        get
        {
            lock (_gate)
            {
                return _wav?.Written ?? TimeSpan.Zero;
            }
        }
    }

    public async Task StartAsync(Uri signalingUrl, string joinToken, CancellationToken cancellationToken)
    {
        System.IO.Directory.CreateDirectory(Directory);
        _wav = new WavWriter(Path.Combine(Directory, "presenter.wav"), 48000, 1);
        _session.Connected += (_, _) => Say($"media connected ({_started.ElapsedMilliseconds} ms after start)");
        _session.Disconnected += (_, e) => Say($"disconnected: {e.Reason}");
        _session.Error += (_, e) => Say($"error {e.Code}: {e.Message}");
        _session.AttendeeJoined += (_, e) => Say($"+ {e.Attendee.ExternalUserId}");
        _session.AttendeeLeft += (_, e) => Say($"- {e.Attendee.ExternalUserId}");
        _session.StreamAdded += (_, e) => { Say($"stream added: {e.Stream.Kind} of {e.Stream.Attendee.ExternalUserId}"); Subscribe(e.Stream); };
        _session.StreamRemoved += (_, e) => Say($"stream removed: {e.Stream.Kind} of {e.Stream.Attendee.ExternalUserId}");
        await _session.ConnectAsync(signalingUrl, joinToken, cancellationToken);
        var info = _session.Info!;
        Say($"joined meeting {info.MeetingId} as {info.ExternalUserId} ({(info.IsReplica ? "replica" : "primary")}, {_started.ElapsedMilliseconds} ms after start)");
        foreach (var attendee in _session.Attendees)
        {
            Say($"present: {attendee.ExternalUserId}");
        }

        foreach (var stream in _session.Streams)
        {
            Subscribe(stream);
        }
    }

    /// <summary>Stops the subscriptions, finishes the WAV file and leaves.</summary>
    public async ValueTask DisposeAsync()
    {
        Subscriber? audio, video;
        lock (_gate)
        {
            (audio, video) = (_audio, _video);
        }

        if (audio is not null)
        {
            await audio.DisposeAsync();
        }

        if (video is not null)
        {
            await video.DisposeAsync();
        }

        await _session.DisposeAsync();
        lock (_gate)
        {
            Say($"wrote {_wav?.Written.TotalSeconds ?? 0:0.0} s of audio and {_framesWritten} frames to {Path.GetFullPath(Directory)}");
            _wav?.Dispose();
            _wav = null;
        }
    }

    private void Subscribe(RemoteStream stream)
    {
        // Streams announced while ConnectAsync runs are subscribed after it returns.
        if ((presenter is not null && stream.Attendee.ExternalUserId != presenter) || _session.Client is null)
        {
            return;
        }

        lock (_gate)
        {
            if (stream.Kind == MediaKind.Audio && _audio is null)
            {
                _audio = _session.Subscribe(stream, new SubscriberSettings { SampleRate = 48000, Channels = 1 });
                _audio.AudioReceived += (_, in a) =>
                {
                    lock (_gate)
                    {
                        _wav?.Write(a.Samples.Span, a.SampleRate, a.Channels);
                    }
                };
                Say($"recording audio of {stream.Attendee.ExternalUserId}");
            }
            else if (stream.Kind == MediaKind.Video && _video is null)
            {
                _video = _session.Subscribe(stream, new SubscriberSettings { Format = VideoFormat.Rgb24 });
                _video.VideoReceived += (_, in f) =>
                {
                    long now = Environment.TickCount64;
                    if (now < Interlocked.Read(ref _nextFrameAt))
                    {
                        return;
                    }

                    Interlocked.Exchange(ref _nextFrameAt, now + 1000);
                    int n = Interlocked.Increment(ref _framesWritten);
                    WritePpm(Path.Combine(Directory, $"frame-{n:0000}.ppm"), f);
                };
                Say($"capturing video of {stream.Attendee.ExternalUserId}");
            }
        }
    }

    private void Say(string line)
    {
        lock (Log)
        {
            Log.WriteLine(line);
        }
    }

    private static void WritePpm(string path, in VideoFrame frame)
    {
        // RGB24 is B, G, R (seed 003); PPM wants R, G, B.
        int width = frame.Resolution.Width, height = frame.Resolution.Height;
        var header = Encoding.ASCII.GetBytes($"P6\n{width} {height}\n255\n");
        var pixels = new byte[width * height * 3];
        var source = frame.Buffer.Span;
        for (int i = 0; i < width * height; i++)
        {
            pixels[i * 3] = source[(i * 3) + 2];
            pixels[(i * 3) + 1] = source[(i * 3) + 1];
            pixels[(i * 3) + 2] = source[i * 3];
        }

        using var file = File.Create(path);
        file.Write(header);
        file.Write(pixels);
    }
}
