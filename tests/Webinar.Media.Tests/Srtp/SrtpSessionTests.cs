using System.Buffers.Binary;
using Webinar.Media.Srtp;

namespace Webinar.Media.Tests.Srtp;

public sealed class SrtpSessionTests
{
    private const uint Ssrc = 0x11223344;

    public static TheoryData<SrtpProfile> Profiles => new() { SrtpProfile.Aes128CmHmacSha1_80, SrtpProfile.AeadAes128Gcm };

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Rtp_round_trips_with_csrcs_header_extension_and_padding(SrtpProfile profile)
    {
        (SrtpSession sender, SrtpSession receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            byte[] plain = Convert.FromHexString(
                "b2e0" + "1234" + "00000064" + "11223344" + // V=2, P, X, CC=2, marker, PT 96
                "aaaaaaaa" + "bbbbbbbb" + // CSRCs
                "bede0001" + "10ff0000" + // one-byte header extension, 1 word
                "0102030405060708090a" + "0003"); // payload then 3 bytes of padding (last byte = count)
            var buffer = new byte[plain.Length + SrtpSession.MaxOverhead];
            plain.CopyTo(buffer, 0);

            Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(buffer, plain.Length, out int protectedLength));
            Assert.Equal(plain.Length + sender.RtpOverhead, protectedLength);
            Assert.Equal(plain.AsSpan(0, 28).ToArray(), buffer.AsSpan(0, 28).ToArray()); // header stays clear
            Assert.NotEqual(plain.AsSpan(28).ToArray(), buffer.AsSpan(28, plain.Length - 28).ToArray());

            Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(buffer, protectedLength, out int plainLength));
            Assert.Equal(plain, buffer.AsSpan(0, plainLength).ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Rtcp_round_trips_and_indices_count_up(SrtpProfile profile)
    {
        (SrtpSession sender, SrtpSession receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            byte[] plain = Convert.FromHexString("81c90007" + "11223344" + "55667788" + "00000001" + "0000abcd" +
                "00000000" + "00000000" + "00000000");
            for (uint expectedIndex = 0; expectedIndex < 3; expectedIndex++)
            {
                var buffer = new byte[plain.Length + SrtpSession.MaxOverhead];
                plain.CopyTo(buffer, 0);
                Assert.Equal(SrtpResult.Ok, sender.ProtectRtcp(buffer, plain.Length, out int protectedLength));
                Assert.Equal(plain.Length + sender.RtcpOverhead, protectedLength);
                int trailer = profile == SrtpProfile.AeadAes128Gcm ? protectedLength - 4 : plain.Length;
                Assert.Equal(0x8000_0000u | expectedIndex, BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(trailer)));

                Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtcp(buffer, protectedLength, out int plainLength));
                Assert.Equal(plain, buffer.AsSpan(0, plainLength).ToArray());
            }
        }
    }

    public static TheoryData<SrtpProfile, ushort, ushort[], uint> RolloverCases()
    {
        var data = new TheoryData<SrtpProfile, ushort, ushort[], uint>();
        foreach (SrtpProfile profile in new[] { SrtpProfile.Aes128CmHmacSha1_80, SrtpProfile.AeadAes128Gcm })
        {
            data.Add(profile, 65534, [65534, 65535, 0, 1], 1); // in order across the wrap
            data.Add(profile, 65534, [65535, 0, 65534, 1], 1); // a packet from before the wrap arrives after it
            data.Add(profile, 65500, [65500, 2, 65530, 65535, 3], 1); // several late pre-wrap packets
            data.Add(profile, 40000, [40000, 60000, 10000, 30000], 1); // big forward steps (< 2^15) across the wrap
            data.Add(profile, 65415, [65535, 0, 65415, 200], 1); // a late pre-wrap packet at the window's edge
            data.Add(profile, 1, [1, 2, 3], 0); // no wrap
            data.Add(profile, 65535, [65535, 0, 65535, 0], 1); // duplicates on both sides of the wrap are replays
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RolloverCases))]
    public void Receiver_tracks_the_rollover_counter_across_sequence_wraparound(
        SrtpProfile profile, ushort senderStart, ushort[] arrivalOrder, uint expectedRollover)
    {
        (SrtpSession sender, SrtpSession receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            // The sender emits consecutive sequence numbers from senderStart; the receiver sees the listed ones in
            // arrival order. A wrong ROC guess fails authentication (the ROC is in the HMAC input and the GCM IV).
            var protectedBySequence = new Dictionary<ushort, byte[]>();
            int total = 0;
            foreach (ushort s in arrivalOrder)
            {
                total = Math.Max(total, ((s - senderStart) & 0xFFFF) + 1);
            }

            var buffer = new byte[64];
            for (int i = 0; i < total; i++)
            {
                ushort sequence = (ushort)(senderStart + i);
                byte[] packet = Rtp(sequence, payloadByte: (byte)i);
                packet.CopyTo(buffer, 0);
                Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(buffer, packet.Length, out int length));
                if (Array.IndexOf(arrivalOrder, sequence) >= 0 && !protectedBySequence.ContainsKey(sequence))
                {
                    protectedBySequence[sequence] = buffer.AsSpan(0, length).ToArray();
                }
            }

            var seen = new HashSet<ushort>();
            foreach (ushort sequence in arrivalOrder)
            {
                byte[] copy = (byte[])protectedBySequence[sequence].Clone();
                SrtpResult result = receiver.UnprotectRtp(copy, copy.Length, out int plainLength);
                SrtpResult expected = seen.Add(sequence) ? SrtpResult.Ok : SrtpResult.Replayed;
                Assert.True(result == expected, $"seq {sequence}: {result}");
                Assert.Equal(Rtp(sequence, 0).AsSpan(0, 12).ToArray(), copy.AsSpan(0, 12).ToArray());
                if (result == SrtpResult.Ok)
                {
                    Assert.Equal(32, plainLength);
                }
            }

            Assert.Equal(expectedRollover, receiver.GetRolloverCounter(Ssrc));
            Assert.Equal(expectedRollover, sender.GetRolloverCounter(Ssrc));
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Late_packet_from_before_the_wrap_but_outside_the_window_is_too_old(SrtpProfile profile)
    {
        (SrtpSession sender, SrtpSession receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            byte[] first = Protect(sender, Rtp(65000, 1));
            byte[] neverDelivered = Protect(sender, Rtp(65001, 1));
            sender.SetRtpState(Ssrc, rolloverCounter: 1, highestSequence: 99);
            byte[] afterWrap = Protect(sender, Rtp(100, 2));

            Assert.Equal(SrtpResult.Ok, Unprotect(receiver, first));
            Assert.Equal(SrtpResult.Ok, Unprotect(receiver, afterWrap)); // index 65636: 636 ahead
            Assert.Equal(SrtpResult.TooOld, Unprotect(receiver, neverDelivered)); // guessed ROC 0, far behind
            Assert.Equal(1u, receiver.GetRolloverCounter(Ssrc));
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Sender_starting_mid_stream_uses_its_rollover_counter_and_receiver_follows(SrtpProfile profile)
    {
        (SrtpSession sender, SrtpSession receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            sender.SetRtpState(Ssrc, rolloverCounter: 7, highestSequence: 65534);
            receiver.SetRtpState(Ssrc, rolloverCounter: 7, highestSequence: 65533);
            foreach (ushort sequence in new ushort[] { 65535, 0, 1 })
            {
                byte[] packet = Rtp(sequence, 1);
                var buffer = new byte[packet.Length + SrtpSession.MaxOverhead];
                packet.CopyTo(buffer, 0);
                Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(buffer, packet.Length, out int length));
                Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(buffer, length, out _));
            }

            Assert.Equal(8u, receiver.GetRolloverCounter(Ssrc));
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Replayed_packet_is_rejected_and_reordered_packets_within_the_window_are_accepted(SrtpProfile profile)
    {
        (SrtpSession sender, SrtpSession receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            var packets = new byte[300][];
            for (int i = 0; i < packets.Length; i++)
            {
                packets[i] = Protect(sender, Rtp((ushort)(1000 + i), (byte)i));
            }

            Assert.Equal(SrtpResult.Ok, Unprotect(receiver, packets[200]));
            Assert.Equal(SrtpResult.Replayed, Unprotect(receiver, packets[200]));
            Assert.Equal(SrtpResult.Ok, Unprotect(receiver, packets[150])); // 50 behind: inside the window
            Assert.Equal(SrtpResult.Replayed, Unprotect(receiver, packets[150]));
            Assert.Equal(SrtpResult.Ok, Unprotect(receiver, packets[73])); // 127 behind: the window's edge
            Assert.Equal(SrtpResult.TooOld, Unprotect(receiver, packets[72])); // 128 behind
            Assert.Equal(SrtpResult.TooOld, Unprotect(receiver, packets[0]));
            Assert.Equal(SrtpResult.Ok, Unprotect(receiver, packets[299])); // a jump of 99 keeps 150 and 200 marked
            Assert.Equal(SrtpResult.Replayed, Unprotect(receiver, packets[200]));
            Assert.Equal(SrtpResult.TooOld, Unprotect(receiver, packets[150])); // now 149 behind
            Assert.Equal(SrtpResult.Ok, Unprotect(receiver, packets[250]));
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Replayed_and_too_old_rtcp_is_rejected(SrtpProfile profile)
    {
        (SrtpSession sender, SrtpSession receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            byte[] plain = Convert.FromHexString("80c9000111223344");
            var packets = new byte[200][];
            for (int i = 0; i < packets.Length; i++)
            {
                var buffer = new byte[plain.Length + SrtpSession.MaxOverhead];
                plain.CopyTo(buffer, 0);
                Assert.Equal(SrtpResult.Ok, sender.ProtectRtcp(buffer, plain.Length, out int length));
                packets[i] = buffer.AsSpan(0, length).ToArray();
            }

            Assert.Equal(SrtpResult.Ok, UnprotectRtcp(receiver, packets[150]));
            Assert.Equal(SrtpResult.Replayed, UnprotectRtcp(receiver, packets[150]));
            Assert.Equal(SrtpResult.Ok, UnprotectRtcp(receiver, packets[100]));
            Assert.Equal(SrtpResult.TooOld, UnprotectRtcp(receiver, packets[10]));
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Any_tampered_byte_fails_authentication_and_the_stream_survives(SrtpProfile profile)
    {
        (SrtpSession sender, SrtpSession receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            byte[] valid = Protect(sender, Rtp(5, 9, payloadLength: 40));
            for (int position = 0; position < valid.Length; position++)
            {
                if (position == 0)
                {
                    continue; // flipping the version bits is a parse failure, covered elsewhere
                }

                byte[] tampered = (byte[])valid.Clone();
                tampered[position] ^= 0x40;
                SrtpResult result = Unprotect(receiver, tampered);
                Assert.True(result is SrtpResult.AuthenticationFailed or SrtpResult.Malformed,
                    $"byte {position}: {result}");
            }

            Assert.Equal(SrtpResult.Ok, Unprotect(receiver, valid));
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Tampered_rtcp_fails_authentication(SrtpProfile profile)
    {
        (SrtpSession sender, SrtpSession receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            byte[] plain = Convert.FromHexString("81c90002112233440000000100000002");
            var buffer = new byte[plain.Length + SrtpSession.MaxOverhead];
            plain.CopyTo(buffer, 0);
            Assert.Equal(SrtpResult.Ok, sender.ProtectRtcp(buffer, plain.Length, out int length));
            for (int position = 1; position < length; position++)
            {
                byte[] tampered = buffer.AsSpan(0, length).ToArray();
                tampered[position] ^= 0x01;
                Assert.Equal(SrtpResult.AuthenticationFailed, UnprotectRtcp(receiver, tampered));
            }
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Wrong_key_fails_authentication(SrtpProfile profile)
    {
        int keyLength = SrtpProfiles.MasterKeyLength(profile);
        int saltLength = SrtpProfiles.MasterSaltLength(profile);
        using var sender = new SrtpSession(profile, new byte[keyLength], new byte[saltLength]);
        byte[] otherKey = new byte[keyLength];
        otherKey[0] = 1;
        using var receiver = new SrtpSession(profile, otherKey, new byte[saltLength]);

        Assert.Equal(SrtpResult.AuthenticationFailed, Unprotect(receiver, Protect(sender, Rtp(1, 1))));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Malformed_and_short_input_is_rejected_with_a_reason(SrtpProfile profile)
    {
        (SrtpSession sender, SrtpSession receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            var buffer = new byte[64];
            Assert.Equal(SrtpResult.TooShort, sender.ProtectRtp(buffer, 11, out _));
            Assert.Equal(SrtpResult.Malformed, sender.ProtectRtp(buffer, 20, out _)); // version 0
            Assert.Equal(SrtpResult.Malformed, sender.ProtectRtp(buffer, 65, out _)); // length beyond the buffer
            Assert.Equal(SrtpResult.Malformed, sender.ProtectRtp(buffer, -1, out _));
            buffer[0] = 0x8F; // 15 CSRCs do not fit in 20 bytes
            Assert.Equal(SrtpResult.Malformed, sender.ProtectRtp(buffer, 20, out _));
            buffer[0] = 0x90; // extension header claims 0xFFFF words
            buffer[14] = 0xFF;
            buffer[15] = 0xFF;
            Assert.Equal(SrtpResult.Malformed, sender.ProtectRtp(buffer, 20, out _));

            byte[] packet = Rtp(1, 1);
            var exact = new byte[packet.Length + sender.RtpOverhead - 1];
            packet.CopyTo(exact, 0);
            Assert.Equal(SrtpResult.BufferTooSmall, sender.ProtectRtp(exact, packet.Length, out _));
            var rtcp = new byte[8 + sender.RtcpOverhead - 1];
            rtcp[0] = 0x80;
            rtcp[1] = 201;
            Assert.Equal(SrtpResult.BufferTooSmall, sender.ProtectRtcp(rtcp, 8, out _));

            Assert.Equal(SrtpResult.TooShort, receiver.UnprotectRtp(new byte[21], 21, out _));
            Assert.Equal(SrtpResult.TooShort, receiver.UnprotectRtcp(new byte[21], 21, out _));
        }
    }

    [Fact]
    public void Key_and_salt_of_the_wrong_length_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new SrtpSession(SrtpProfile.AeadAes128Gcm, new byte[16], new byte[14]));
        Assert.Throws<ArgumentException>(() => new SrtpSession(SrtpProfile.Aes128CmHmacSha1_80, new byte[32], new byte[14]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new SrtpSession((SrtpProfile)0x0002, new byte[16], new byte[14]));
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void Protect_and_unprotect_allocate_nothing_once_a_stream_is_known(SrtpProfile profile)
    {
        (SrtpSession sender, SrtpSession receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            var buffer = new byte[1200 + SrtpSession.MaxOverhead];
            byte[] packet = Rtp(0, 1, payloadLength: 1188);
            var rtcp = new byte[64];
            byte[] rtcpPlain = Convert.FromHexString("81c9000111223344");
            RunPackets(sender, receiver, buffer, packet, rtcp, rtcpPlain, 0, 200); // warm up JIT and per-SSRC state

            long before = GC.GetAllocatedBytesForCurrentThread();
            RunPackets(sender, receiver, buffer, packet, rtcp, rtcpPlain, 200, 1000);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

            Assert.Equal(0, allocated);
        }
    }

    private static void RunPackets(
        SrtpSession sender, SrtpSession receiver, byte[] buffer, byte[] packet, byte[] rtcp, byte[] rtcpPlain, int from,
        int count)
    {
        for (int i = from; i < from + count; i++)
        {
            packet.CopyTo(buffer, 0);
            BinaryPrimitives.WriteUInt16BigEndian(buffer.AsSpan(2), (ushort)i);
            sender.ProtectRtp(buffer, packet.Length, out int length);
            if (receiver.UnprotectRtp(buffer, length, out _) != SrtpResult.Ok)
            {
                throw new InvalidOperationException("round trip failed");
            }

            rtcpPlain.CopyTo(rtcp, 0);
            sender.ProtectRtcp(rtcp, 8, out int rtcpLength);
            if (receiver.UnprotectRtcp(rtcp, rtcpLength, out _) != SrtpResult.Ok)
            {
                throw new InvalidOperationException("rtcp round trip failed");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void A_peer_sending_from_ever_new_ssrcs_keeps_at_most_max_streams_of_state(SrtpProfile profile)
    {
        (SrtpSession sender, SrtpSession receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            receiver.MaxStreams = 8;
            var buffer = new byte[64];
            for (uint ssrc = 1; ssrc <= 1000; ssrc++)
            {
                byte[] rtcp = Convert.FromHexString("80c90001" + ssrc.ToString("x8")); // an empty receiver report
                rtcp.CopyTo(buffer, 0);
                Assert.Equal(SrtpResult.Ok, sender.ProtectRtcp(buffer, rtcp.Length, out int length));
                Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtcp(buffer, length, out _));
                Assert.True(receiver.StreamCount <= 8, $"{receiver.StreamCount} SSRC states after {ssrc} SSRCs");
            }

            Assert.Equal(992, receiver.StreamsEvicted);
        }
    }

    [Theory]
    [MemberData(nameof(Profiles))]
    public void The_stream_forgotten_at_the_bound_is_the_least_recently_used(SrtpProfile profile)
    {
        (SrtpSession sender, SrtpSession receiver) = Pair(profile);
        using (sender)
        using (receiver)
        {
            receiver.MaxStreams = 2;
            var buffer = new byte[128];
            SrtpResult Deliver(uint ssrc, ushort sequence)
            {
                byte[] plain = Rtp(sequence, 1);
                BinaryPrimitives.WriteUInt32BigEndian(plain.AsSpan(8), ssrc);
                plain.CopyTo(buffer, 0);
                Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(buffer, plain.Length, out int length));
                return receiver.UnprotectRtp(buffer, length, out _);
            }

            Assert.Equal(SrtpResult.Ok, Deliver(0xA, 1));
            Assert.Equal(SrtpResult.Ok, Deliver(0xB, 1));
            Assert.Equal(SrtpResult.Ok, Deliver(0xA, 2)); // A used last: B is the older one
            Assert.Equal(SrtpResult.Ok, Deliver(0xC, 1)); // evicts B

            Assert.Equal(1, receiver.StreamsEvicted);
            Assert.Equal(SrtpResult.Replayed, receiver.UnprotectRtp(Resend(sender, 0xA, 2), 12 + 20 + sender.RtpOverhead, out _));
        }
    }

    private static byte[] Resend(SrtpSession sender, uint ssrc, ushort sequence)
    {
        // Protecting again with the same index yields the same bytes (a replay as an attacker would record it).
        byte[] plain = Rtp(sequence, 1);
        BinaryPrimitives.WriteUInt32BigEndian(plain.AsSpan(8), ssrc);
        var buffer = new byte[plain.Length + SrtpSession.MaxOverhead];
        plain.CopyTo(buffer, 0);
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(buffer, plain.Length, out _));
        return buffer;
    }

    internal static (SrtpSession Sender, SrtpSession Receiver) Pair(SrtpProfile profile)
    {
        byte[] key = new byte[SrtpProfiles.MasterKeyLength(profile)];
        byte[] salt = new byte[SrtpProfiles.MasterSaltLength(profile)];
        new Random(3711).NextBytes(key);
        new Random(7714).NextBytes(salt);
        return (new SrtpSession(profile, key, salt), new SrtpSession(profile, key, salt));
    }

    internal static byte[] Rtp(ushort sequence, byte payloadByte, int payloadLength = 20)
    {
        var packet = new byte[12 + payloadLength];
        packet[0] = 0x80;
        packet[1] = 96;
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), sequence);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(4), 90_000u * sequence);
        BinaryPrimitives.WriteUInt32BigEndian(packet.AsSpan(8), Ssrc);
        packet.AsSpan(12).Fill(payloadByte);
        return packet;
    }

    internal static byte[] Protect(SrtpSession sender, byte[] packet)
    {
        var buffer = new byte[packet.Length + SrtpSession.MaxOverhead];
        packet.CopyTo(buffer, 0);
        Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(buffer, packet.Length, out int length));
        return buffer.AsSpan(0, length).ToArray();
    }

    private static SrtpResult Unprotect(SrtpSession receiver, byte[] packet)
    {
        byte[] copy = (byte[])packet.Clone();
        return receiver.UnprotectRtp(copy, copy.Length, out _);
    }

    private static SrtpResult UnprotectRtcp(SrtpSession receiver, byte[] packet)
    {
        byte[] copy = (byte[])packet.Clone();
        return receiver.UnprotectRtcp(copy, copy.Length, out _);
    }
}
