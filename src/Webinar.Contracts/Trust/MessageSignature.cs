using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Webinar.Contracts.Trust;

/// <summary>Why a received message was refused; each is counted and logged under its own name.</summary>
public enum MessageRefusal
{
    Unsigned,
    Stale,
    UnknownSender,
    BadSignature,
    WrongSender,
    Replayed,
}

/// <summary>
/// The signature of one bus message: ECDSA P-256/SHA-256 (IEEE P1363, base64) by <see cref="SenderHeader"/> over
/// <c>"webinar-bus/1\n{message type}\n{message id}\n{sender}\n{signed-at unix ms}\n"</c> followed by the message's
/// JSON as MassTransit serializes it. Verified against the JSON of the message as received, so what is checked is
/// exactly what a consumer reads.
/// </summary>
public static class MessageSignature
{
    public const string SenderHeader = "Webinar-Sender";
    public const string SignedAtHeader = "Webinar-Signed-At";
    public const string SignatureHeader = "Webinar-Signature";

    private static readonly JsonSerializerOptions Json = MassTransit.Serialization.SystemTextJsonMessageSerializer.Options;

    public static string Sign<T>(ECDsa key, T message, Guid messageId, string sender, long signedAtMs)
        where T : class
    {
        var data = SignedBytes(message, messageId, sender, signedAtMs);
        return Convert.ToBase64String(key.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
    }

    public static bool Verify<T>(ECDsa key, T message, Guid messageId, string sender, long signedAtMs, string signature)
        where T : class
    {
        Span<byte> raw = stackalloc byte[64];
        if (!Convert.TryFromBase64String(signature, raw, out var written) || written != 64)
        {
            return false;
        }

        return key.VerifyData(SignedBytes(message, messageId, sender, signedAtMs), raw, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
    }

    private static byte[] SignedBytes<T>(T message, Guid messageId, string sender, long signedAtMs)
        where T : class
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        var header = string.Create(CultureInfo.InvariantCulture, $"webinar-bus/1\n{typeof(T).FullName}\n{messageId:D}\n{sender}\n{signedAtMs}\n");
        buffer.Write(Encoding.UTF8.GetBytes(header));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            JsonSerializer.Serialize(writer, message, Json);
        }

        return buffer.WrittenSpan.ToArray();
    }
}
