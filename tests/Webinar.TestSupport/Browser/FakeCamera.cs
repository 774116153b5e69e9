namespace Webinar.TestSupport.Browser;

/// <summary>
/// A 1280x720, 30 fps Y4M clip for Chromium's fake camera (--use-file-for-fake-video-capture). Chromium's built-in
/// fake camera draws a flat, almost static pattern that VP8 codes in a few hundred kbit/s whatever the bandwidth;
/// a real camera image is noisy. This clip is a moving gradient with sensor-like noise, so the encoder needs as much
/// bitrate as the bandwidth estimate allows — which is what the ramp-up test is about.
/// </summary>
public static class FakeCamera
{
    public const int Width = 1280;
    public const int Height = 720;
    private const int Frames = 15;
    private static readonly Lock Gate = new();

    public static string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"webinar-fake-camera-{Width}x{Height}-v3.y4m");

    public static string Ensure()
    {
        lock (Gate)
        {
            if (File.Exists(Path))
            {
                return Path;
            }

            var temporary = Path + ".tmp";
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
            {
                var header = System.Text.Encoding.ASCII.GetBytes($"YUV4MPEG2 W{Width} H{Height} F30:1 Ip A1:1 C420jpeg\n");
                file.Write(header);
                var frameHeader = System.Text.Encoding.ASCII.GetBytes("FRAME\n");
                var luma = new byte[Width * Height];
                var chroma = new byte[Width * Height / 4];
                var random = new Random(20261121);
                for (var f = 0; f < Frames; f++)
                {
                    for (var y = 0; y < Height; y++)
                    {
                        for (var x = 0; x < Width; x++)
                        {
                            var gradient = ((x + (f * 8)) / 5 + (y / 3)) & 0xFF;
                            luma[(y * Width) + x] = (byte)Math.Clamp(gradient + random.Next(-24, 25), 16, 235);
                        }
                    }

                    file.Write(frameHeader);
                    file.Write(luma);
                    for (var plane = 0; plane < 2; plane++)
                    {
                        for (var i = 0; i < chroma.Length; i++)
                        {
                            chroma[i] = (byte)(128 + random.Next(-10, 11));
                        }

                        file.Write(chroma);
                    }
                }
            }

            File.Move(temporary, Path, overwrite: true);
            return Path;
        }
    }
}
