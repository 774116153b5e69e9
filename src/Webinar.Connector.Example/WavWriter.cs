namespace Webinar.Connector.Example;

/// <summary>A 16-bit PCM WAV file whose RIFF and data sizes are patched in on dispose.</summary>
public sealed class WavWriter : IDisposable
{
    private readonly FileStream _file;
    private readonly BinaryWriter _writer;
    private long _dataBytes;

    public WavWriter(string path, int sampleRate, int channels)
    {
        _file = File.Create(path);
        _writer = new BinaryWriter(_file);
        _writer.Write("RIFF"u8);
        _writer.Write(0);
        _writer.Write("WAVEfmt "u8);
        _writer.Write(16);
        _writer.Write((short)1);
        _writer.Write((short)channels);
        _writer.Write(sampleRate);
        _writer.Write(sampleRate * channels * 2);
        _writer.Write((short)(channels * 2));
        _writer.Write((short)16);
        _writer.Write("data"u8);
        _writer.Write(0);
    }

    public TimeSpan Written { get; private set; }

    public void Write(ReadOnlySpan<short> samples, int sampleRate, int channels)
    {
        foreach (short sample in samples)
        {
            _writer.Write(sample);
        }

        _dataBytes += samples.Length * 2;
        Written = TimeSpan.FromSeconds((double)_dataBytes / 2 / channels / sampleRate);
    }

    public void Dispose()
    {
        _writer.Flush();
        _file.Position = 4;
        _writer.Write((int)(36 + _dataBytes));
        _file.Position = 40;
        _writer.Write((int)_dataBytes);
        _writer.Dispose();
    }
}
