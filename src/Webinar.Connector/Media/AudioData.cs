namespace Webinar.Connector.Media;

/// <summary>
/// Linear PCM, 16-bit signed, interleaved: <see cref="Frames"/> frames of <see cref="Channels"/> samples each at
/// <see cref="SampleRate"/> Hz. What a <see cref="Publishing.Publisher"/> takes and a <see cref="Subscribing.Subscriber"/>
/// delivers (a delivered buffer is valid only during the callback: copy what you keep).
/// </summary>
public readonly record struct AudioData(ReadOnlyMemory<short> Samples, int SampleRate, int Channels, int Frames)
{
    /// <summary>How long the data plays.</summary>
    public TimeSpan Duration => TimeSpan.FromSeconds((double)Frames / SampleRate);
}
