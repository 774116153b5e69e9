namespace Webinar.Media.Tests.Fuzzing;

/// <summary>
/// Seeded generators of hostile datagrams for the STUN, ICE and SRTP parsers: fully random buffers and
/// mutations (bit flips, byte overwrites, truncation, extension, splices) of a valid packet.
/// The seed is fixed so a failure reproduces.
/// </summary>
internal static class FuzzStunSrtpInputs
{
    public static IEnumerable<byte[]> RandomDatagrams(int count, int seed, int maxLength = 256)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            var bytes = new byte[random.Next(0, maxLength + 1)];
            random.NextBytes(bytes);
            yield return bytes;
        }
    }

    public static IEnumerable<byte[]> Mutations(byte[] valid, int count, int seed)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            yield return Mutate(valid, random);
        }
    }

    private static byte[] Mutate(byte[] valid, Random random)
    {
        byte[] bytes = (byte[])valid.Clone();
        int operations = random.Next(1, 4);
        for (int op = 0; op < operations; op++)
        {
            switch (random.Next(6))
            {
                case 0 when bytes.Length > 0:
                    int bit = random.Next(bytes.Length * 8);
                    bytes[bit / 8] ^= (byte)(1 << (bit % 8));
                    break;
                case 1 when bytes.Length > 0:
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                    break;
                case 2:
                    Array.Resize(ref bytes, random.Next(0, bytes.Length + 1));
                    break;
                case 3:
                    int extra = random.Next(1, 32);
                    int oldLength = bytes.Length;
                    Array.Resize(ref bytes, oldLength + extra);
                    random.NextBytes(bytes.AsSpan(oldLength));
                    break;
                case 4 when bytes.Length > 4:
                    // Overwrite a 16-bit field with an extreme value: lengths and counts are the usual targets.
                    int at = random.Next(bytes.Length - 1);
                    ushort value = random.Next(3) switch { 0 => 0, 1 => 0xFFFF, _ => (ushort)random.Next(65536) };
                    bytes[at] = (byte)(value >> 8);
                    bytes[at + 1] = (byte)value;
                    break;
                case 5 when bytes.Length > 8:
                    int from = random.Next(bytes.Length);
                    int to = random.Next(bytes.Length);
                    int length = random.Next(1, Math.Min(bytes.Length - Math.Max(from, to), 16) + 1);
                    Array.Copy(bytes, from, bytes, to, length);
                    break;
            }
        }

        return bytes;
    }
}
