using System.Net;
using System.Text;
using Webinar.Media.Stun;

namespace Webinar.Media.Tests.Stun;

public sealed class StunMessageTests
{
    private static readonly byte[] Key = Encoding.UTF8.GetBytes(Rfc5769TestVectors.Password);

    [Fact]
    public void Rfc5769_sample_request_parses_and_its_integrity_and_fingerprint_verify()
    {
        Assert.True(StunMessage.TryParse(Rfc5769TestVectors.SampleRequest, out StunMessage message));

        Assert.Equal(StunClass.Request, message.Class);
        Assert.Equal(StunMethod.Binding, message.Method);
        Assert.Equal(Rfc5769TestVectors.TransactionId, message.TransactionId.ToArray());
        Assert.True(message.TryGetUsername(out ReadOnlySpan<byte> username));
        Assert.Equal("evtj:h6vY", Encoding.UTF8.GetString(username));
        Assert.True(message.TryGetPriority(out uint priority));
        Assert.Equal(0x6e0001ffu, priority);
        Assert.True(message.TryGetIceControlled(out ulong tieBreaker));
        Assert.Equal(0x932ff9b151263b36ul, tieBreaker);
        Assert.False(message.TryGetIceControlling(out _));
        Assert.True(message.TryGetAttribute(StunAttributeType.Software, out ReadOnlySpan<byte> software));
        Assert.Equal("STUN test client", Encoding.UTF8.GetString(software));
        Assert.True(message.VerifyMessageIntegrity(Key));
        Assert.True(message.VerifyFingerprint());
    }

    [Fact]
    public void Rfc5769_sample_request_fails_integrity_with_a_wrong_password()
    {
        Assert.True(StunMessage.TryParse(Rfc5769TestVectors.SampleRequest, out StunMessage message));
        Assert.False(message.VerifyMessageIntegrity("VOkJxbRl1RmTxUk/WvJxBu"u8));
    }

    [Fact]
    public void Rfc5769_ipv4_response_yields_its_xor_mapped_address()
    {
        Assert.True(StunMessage.TryParse(Rfc5769TestVectors.SampleIPv4Response, out StunMessage message));

        Assert.Equal(StunClass.SuccessResponse, message.Class);
        Assert.Equal(StunMethod.Binding, message.Method);
        Assert.True(message.TryGetXorMappedAddress(out IPEndPoint? endpoint));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("192.0.2.1"), 32853), endpoint);
        Assert.True(message.VerifyMessageIntegrity(Key));
        Assert.True(message.VerifyFingerprint());
    }

    [Fact]
    public void Rfc5769_ipv6_response_yields_its_xor_mapped_address()
    {
        Assert.True(StunMessage.TryParse(Rfc5769TestVectors.SampleIPv6Response, out StunMessage message));

        Assert.True(message.TryGetXorMappedAddress(out IPEndPoint? endpoint));
        Assert.Equal(new IPEndPoint(IPAddress.Parse("2001:db8:1234:5678:11:2233:4455:6677"), 32853), endpoint);
        Assert.True(message.VerifyMessageIntegrity(Key));
        Assert.True(message.VerifyFingerprint());
    }

    [Fact]
    public void Writer_reproduces_the_rfc5769_sample_request_byte_for_byte()
    {
        var buffer = new byte[256];
        var writer = new StunMessageWriter(buffer, StunClass.Request, StunMethod.Binding, Rfc5769TestVectors.TransactionId)
        {
            PaddingByte = 0x20,
        };
        writer.AddAttribute(StunAttributeType.Software, "STUN test client"u8);
        writer.AddPriority(0x6e0001ff);
        writer.AddIceControlled(0x932ff9b151263b36);
        writer.AddUsername("evtj:h6vY"u8);
        writer.AddMessageIntegrity(Key);
        writer.AddFingerprint();

        Assert.True(writer.TryComplete(out int length));
        Assert.Equal(Convert.ToHexString(Rfc5769TestVectors.SampleRequest), Convert.ToHexString(buffer, 0, length));
    }

    [Theory]
    [InlineData("192.0.2.1")]
    [InlineData("2001:db8:1234:5678:11:2233:4455:6677")]
    public void Writer_reproduces_the_rfc5769_responses_byte_for_byte(string address)
    {
        byte[] expected = address.Contains(':')
            ? Rfc5769TestVectors.SampleIPv6Response
            : Rfc5769TestVectors.SampleIPv4Response;
        var buffer = new byte[256];
        var writer = new StunMessageWriter(
            buffer, StunClass.SuccessResponse, StunMethod.Binding, Rfc5769TestVectors.TransactionId)
        {
            PaddingByte = 0x20,
        };
        writer.AddAttribute(StunAttributeType.Software, "test vector"u8);
        writer.AddXorMappedAddress(new IPEndPoint(IPAddress.Parse(address), 32853));
        writer.AddMessageIntegrity(Key);
        writer.AddFingerprint();

        Assert.True(writer.TryComplete(out int length));
        Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(buffer, 0, length));
    }

    [Fact]
    public void Xor_mapped_address_from_a_socket_address_matches_the_ip_endpoint_form()
    {
        var endpoint = new IPEndPoint(IPAddress.Parse("203.0.113.7"), 50000);
        var mapped = new IPEndPoint(IPAddress.Parse("203.0.113.7").MapToIPv6(), 50000);
        foreach (IPEndPoint source in new[] { endpoint, mapped })
        {
            var buffer = new byte[64];
            var writer = new StunMessageWriter(buffer, StunClass.SuccessResponse, StunMethod.Binding, new byte[12]);
            writer.AddXorMappedAddress(source.Serialize());
            Assert.True(writer.TryComplete(out int length));

            Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out StunMessage message));
            Assert.True(message.TryGetXorMappedAddress(out IPEndPoint? decoded));
            Assert.Equal(endpoint, decoded);
        }
    }

    [Fact]
    public void Ice_attributes_round_trip_through_writer_and_reader()
    {
        byte[] transactionId = Convert.FromHexString("0102030405060708090a0b0c");
        var buffer = new byte[256];
        var writer = new StunMessageWriter(buffer, StunClass.Request, StunMethod.Binding, transactionId);
        writer.AddUsername("remote:local"u8);
        writer.AddPriority(0x7E0000FF);
        writer.AddIceControlling(0xDEADBEEFCAFEBABE);
        writer.AddUseCandidate();
        writer.AddMessageIntegrity("secret"u8);
        writer.AddFingerprint();
        Assert.True(writer.TryComplete(out int length));

        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out StunMessage message));
        Assert.Equal(transactionId, message.TransactionId.ToArray());
        Assert.True(message.TryGetPriority(out uint priority));
        Assert.Equal(0x7E0000FFu, priority);
        Assert.True(message.TryGetIceControlling(out ulong tieBreaker));
        Assert.Equal(0xDEADBEEFCAFEBABEul, tieBreaker);
        Assert.True(message.HasAttribute(StunAttributeType.UseCandidate));
        Assert.True(message.VerifyMessageIntegrity("secret"u8));
        Assert.True(message.VerifyFingerprint());

        int count = 0;
        foreach (StunAttribute attribute in message)
        {
            count++;
            Assert.NotEqual(0, attribute.Type);
        }

        Assert.Equal(6, count);
    }

    [Fact]
    public void Error_code_round_trips_with_its_reason()
    {
        var buffer = new byte[128];
        var writer = new StunMessageWriter(buffer, StunClass.ErrorResponse, StunMethod.Binding, new byte[12]);
        writer.AddErrorCode(StunErrorCode.Unauthenticated, "Unauthenticated"u8);
        writer.AddFingerprint();
        Assert.True(writer.TryComplete(out int length));

        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out StunMessage message));
        Assert.Equal(StunClass.ErrorResponse, message.Class);
        Assert.True(message.TryGetErrorCode(out int code, out ReadOnlySpan<byte> reason));
        Assert.Equal(401, code);
        Assert.Equal("Unauthenticated", Encoding.UTF8.GetString(reason));
    }

    [Fact]
    public void Attributes_after_message_integrity_are_ignored_except_fingerprint()
    {
        var buffer = new byte[128];
        var writer = new StunMessageWriter(buffer, StunClass.Request, StunMethod.Binding, new byte[12]);
        writer.AddUsername("a:b"u8);
        writer.AddMessageIntegrity("k"u8);
        writer.AddPriority(7); // smuggled after the integrity check
        writer.AddFingerprint();
        Assert.True(writer.TryComplete(out int length));

        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out StunMessage message));
        Assert.False(message.TryGetPriority(out _));
        Assert.True(message.VerifyMessageIntegrity("k"u8));
        Assert.True(message.VerifyFingerprint());
    }

    [Fact]
    public void Writer_reports_overflow_instead_of_writing_past_the_buffer()
    {
        var buffer = new byte[40];
        var writer = new StunMessageWriter(buffer, StunClass.Request, StunMethod.Binding, new byte[12]);
        writer.AddUsername("a-rather-long-username:with-more"u8);
        writer.AddFingerprint();

        Assert.False(writer.TryComplete(out _));
    }

    [Theory]
    [InlineData("")]
    [InlineData("0001")]
    [InlineData("000100002112a442b7e7a701bc34d686fa87df")] // 19 bytes
    [InlineData("c00100002112a442b7e7a701bc34d686fa87dfae")] // top bits set
    [InlineData("000100002112a443b7e7a701bc34d686fa87dfae")] // wrong magic cookie
    [InlineData("000100042112a442b7e7a701bc34d686fa87dfae")] // length beyond the datagram
    [InlineData("000100022112a442b7e7a701bc34d686fa87dfae0000")] // length not a multiple of 4
    [InlineData("000100082112a442b7e7a701bc34d686fa87dfae0006000900000000")] // attribute overruns
    [InlineData("000100082112a442b7e7a701bc34d686fa87dfae8028000300000000")] // FINGERPRINT of 3 bytes
    [InlineData("000100102112a442b7e7a701bc34d686fa87dfae80280004e57a3bcf0024000400000001")] // after FINGERPRINT
    public void Malformed_messages_are_rejected(string hex)
    {
        Assert.False(StunMessage.TryParse(Convert.FromHexString(hex), out _));
    }

    [Fact]
    public void Tampering_with_a_signed_message_breaks_its_fingerprint_and_integrity()
    {
        byte[] tampered = (byte[])Rfc5769TestVectors.SampleRequest.Clone();
        tampered[40] ^= 0x01; // inside PRIORITY
        Assert.True(StunMessage.TryParse(tampered, out StunMessage message));
        Assert.False(message.VerifyMessageIntegrity(Key));
        Assert.False(message.VerifyFingerprint());
    }
}
