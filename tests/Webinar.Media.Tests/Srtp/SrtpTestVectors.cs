namespace Webinar.Media.Tests.Srtp;

/// <summary>Published vectors: RFC 3711 Appendix B, RFC 7714 §16–17, and libsrtp's srtp_driver reference packet.</summary>
internal static class SrtpTestVectors
{
    // RFC 3711 B.2
    public static readonly byte[] B2SessionKey = Convert.FromHexString("2B7E151628AED2A6ABF7158809CF4F3C");
    public static readonly byte[] B2SessionSalt = Convert.FromHexString("F0F1F2F3F4F5F6F7F8F9FAFBFCFD");
    public const int B2KeystreamLength = 1044512;
    public const string B2KeystreamStart =
        "E03EAD0935C95E80E166B16DD92B4EB4" + "D23513162B02D0F72A43A2FE4A5F97AB" + "41E95B3BB0A2E8DD477901E4FCA894C0";
    public const string B2KeystreamEnd =
        "EC8CDF7398607CB0F2D21675EA9EA1E4" + "362B7C3C6773516318A077D7FC5073AE" + "6A2CC3787889374FBEB4C81B17BA6C44";

    // RFC 3711 B.3
    public static readonly byte[] B3MasterKey = Convert.FromHexString("E1F97A0D3E018BE0D64FA32C06DE4139");
    public static readonly byte[] B3MasterSalt = Convert.FromHexString("0EC675AD498AFEEBB6960B3AABE6");
    public const string B3CipherKey = "C61E7A93744F39EE10734AFE3FF7A087";
    public const string B3CipherSalt = "30CBBC08863D8C85D49DB34A9AE1";
    public const string B3AuthKey = "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4";

    // libsrtp srtp_driver.c reference packets, keyed with the B.3 master key and salt (AES_CM_128_HMAC_SHA1_80).
    public static readonly byte[] LibsrtpRtpPlain = Convert.FromHexString(
        "800f1234decafbadcafebabe" + "abababababababababababababababab");
    public static readonly byte[] LibsrtpRtpProtected = Convert.FromHexString(
        "800f1234decafbadcafebabe" + "4e55dc4ce79978d88ca4d215949d2402" + "b78d6acc99ea179b8dbb");
    public static readonly byte[] LibsrtpRtcpPlain = Convert.FromHexString(
        "81c8000bcafebabe" + "abababababababababababababababab");
    public static readonly byte[] LibsrtpRtcpProtected = Convert.FromHexString(
        "81c8000bcafebabe" + "7128035be487b9bdbef89041f977a5a8" + "80000001" + "993e08cd54d6c1230798");

    // RFC 7714 §16–17: session key and salt given directly (no key derivation).
    public static readonly byte[] GcmSessionKey = Convert.FromHexString("000102030405060708090a0b0c0d0e0f");
    public static readonly byte[] GcmSessionSalt = Convert.FromHexString("517569642070726f2071756f");
    public const string GcmRtpIv = "51753c6580c2726f20718414";

    public static readonly byte[] GcmRtpPlain = Convert.FromHexString(
        "8040f17b8041f8d35501a0b2" +
        "47616c6c696120657374206f6d6e69732064697669736120696e207061727465732074726573");

    /// <summary>§16.1.1: ciphertext and tag after the clear 12-byte header.</summary>
    public static readonly byte[] GcmRtpProtected = Convert.FromHexString(
        "8040f17b8041f8d35501a0b2" +
        "f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f42a5f47a51c7d19b36de3adf8833" +
        "899d7f27beb16a9152cf765ee4390cce");

    public const uint GcmRtcpSsrc = 0x4d617273; // "Mars"
    public const uint GcmRtcpIndex = 0x5d4;

    public static readonly byte[] GcmRtcpPlain = Convert.FromHexString(
        "81c8000d4d617273" +
        "4e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef");

    /// <summary>§17.1: encrypted SRTCP, tag, then E||index = 0x800005d4.</summary>
    public static readonly byte[] GcmRtcpProtected = Convert.FromHexString(
        "81c8000d4d617273" +
        "63e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1730d6fda4ce09b4686303ded0bb9275bc84aa458" +
        "96cf4d2fc5abf87245d9eade" +
        "800005d4");

    /// <summary>§17.3: authenticated but not encrypted (E = 0).</summary>
    public static readonly byte[] GcmRtcpTagOnly = Convert.FromHexString(
        "81c8000d4d617273" +
        "4e5450314e545032525450200000042a0000e9304c756e61deadbeefdeadbeefdeadbeefdeadbeefdeadbeef" +
        "841dd9683dd78ec92ae58790125f62b3" +
        "000005d4");
}
