using System.Security.Cryptography;
using System.Text;
using Webinar.Contracts.Relay;

namespace Webinar.Contracts.Trust;

/// <summary>
/// Seals relay SRTP keys to the node that will use them, so neither the broker nor any other bus client learns them:
/// ECDH P-256 between a fresh ephemeral key and the recipient's key, HKDF-SHA256 (salt: the ephemeral public key;
/// info: sender and recipient), AES-256-GCM over master key ‖ salt with sender, recipient and profile as associated
/// data. <see cref="RelayKeys.Sealed"/> is <c>1 ‖ ephemeral point (65) ‖ nonce (12) ‖ tag (16) ‖ ciphertext</c>.
/// Without bus trust (development) the keys travel as <c>0 ‖ key ‖ salt</c>, which a node with trust refuses.
/// </summary>
public sealed class RelayKeySealer(BusKeys keys)
{
    private const byte Clear = 0;
    private const byte EcdhAesGcm = 1;
    private const int PointLength = 65;
    private const int NonceLength = 12;
    private const int TagLength = 16;

    public RelayKeys Seal(string recipient, ushort profile, ReadOnlySpan<byte> masterKey, ReadOnlySpan<byte> masterSalt)
    {
        var plain = new byte[masterKey.Length + masterSalt.Length];
        masterKey.CopyTo(plain);
        masterSalt.CopyTo(plain.AsSpan(masterKey.Length));
        if (!keys.Enabled)
        {
            return new RelayKeys(profile, [Clear, .. plain]);
        }

        var recipientKey = keys.PublicKey(recipient)
            ?? throw new CryptographicException($"No public key is known for node '{recipient}'; relay keys cannot be sealed to it.");
        using var ephemeral = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var point = Point(ephemeral.ExportParameters(false));
        using var recipientAgreement = ECDiffieHellman.Create(recipientKey.ExportParameters(false));
        var aesKey = DeriveKey(ephemeral.DeriveRawSecretAgreement(recipientAgreement.PublicKey), point, keys.Principal, recipient);
        var sealedKeys = new byte[1 + PointLength + NonceLength + TagLength + plain.Length];
        sealedKeys[0] = EcdhAesGcm;
        point.CopyTo(sealedKeys.AsSpan(1));
        var nonce = sealedKeys.AsSpan(1 + PointLength, NonceLength);
        RandomNumberGenerator.Fill(nonce);
        using var aes = new AesGcm(aesKey, TagLength);
        aes.Encrypt(nonce, plain, sealedKeys.AsSpan(1 + PointLength + NonceLength + TagLength), sealedKeys.AsSpan(1 + PointLength + NonceLength, TagLength),
            AssociatedData(keys.Principal, recipient, profile));
        CryptographicOperations.ZeroMemory(plain);
        CryptographicOperations.ZeroMemory(aesKey);
        return new RelayKeys(profile, sealedKeys);
    }

    /// <summary>The master key and salt <paramref name="sender"/> sealed to this node, or false when they do not open.</summary>
    public bool TryOpen(string sender, RelayKeys sealedKeys, int keyLength, int saltLength, out byte[] masterKey, out byte[] masterSalt)
    {
        masterKey = [];
        masterSalt = [];
        var data = sealedKeys.Sealed;
        if (data is null || data.Length == 0)
        {
            return false;
        }

        byte[] plain;
        if (data[0] == Clear && !keys.Enabled && data.Length == 1 + keyLength + saltLength)
        {
            plain = data[1..];
        }
        else if (data[0] == EcdhAesGcm && keys.AgreementKey is { } own && data.Length == 1 + PointLength + NonceLength + TagLength + keyLength + saltLength)
        {
            var point = data.AsSpan(1, PointLength);
            if (point[0] != 4)
            {
                return false;
            }

            plain = new byte[keyLength + saltLength];
            try
            {
                using var ephemeral = ECDiffieHellman.Create(new ECParameters
                {
                    Curve = ECCurve.NamedCurves.nistP256,
                    Q = new ECPoint { X = point.Slice(1, 32).ToArray(), Y = point.Slice(33, 32).ToArray() },
                });
                var aesKey = DeriveKey(own.DeriveRawSecretAgreement(ephemeral.PublicKey), point.ToArray(), sender, keys.Principal);
                using var aes = new AesGcm(aesKey, TagLength);
                aes.Decrypt(data.AsSpan(1 + PointLength, NonceLength), data.AsSpan(1 + PointLength + NonceLength + TagLength), data.AsSpan(1 + PointLength + NonceLength, TagLength),
                    plain, AssociatedData(sender, keys.Principal, sealedKeys.SrtpProfile));
                CryptographicOperations.ZeroMemory(aesKey);
            }
            catch (CryptographicException)
            {
                return false;
            }
        }
        else
        {
            return false;
        }

        masterKey = plain[..keyLength];
        masterSalt = plain[keyLength..];
        return true;
    }

    private static byte[] Point(ECParameters p) => [4, .. p.Q.X!, .. p.Q.Y!];

    private static byte[] DeriveKey(byte[] shared, byte[] point, string sender, string recipient)
    {
        var key = HKDF.DeriveKey(HashAlgorithmName.SHA256, shared, 32, point, Encoding.UTF8.GetBytes($"webinar relay keys/1\n{sender}\n{recipient}"));
        CryptographicOperations.ZeroMemory(shared);
        return key;
    }

    private static byte[] AssociatedData(string sender, string recipient, ushort profile) =>
        Encoding.UTF8.GetBytes($"{sender}\n{recipient}\n{profile}");
}
