using System.Runtime.InteropServices;
using System.Text;

namespace Webinar.Media.Dtls.OpenSsl;

/// <summary>
/// The few libssl/libcrypto 3.x entry points the DTLS server needs (Debian's libssl3; OpenSSL 3.0 or newer). Macros of
/// ssl.h that are SSL_ctrl calls are spelled out here with their control codes. Nothing here throws except
/// <see cref="IsAvailable"/>'s probe, which catches.
/// </summary>
internal static unsafe partial class OpenSslNative
{
    private const string Ssl = "libssl.so.3";
    private const string Crypto = "libcrypto.so.3";

    public const int SslErrorSsl = 1;
    public const int SslErrorWantRead = 2;
    public const int SslErrorWantWrite = 3;
    public const int SslErrorSyscall = 5;
    public const int SslErrorZeroReturn = 6;

    public const int SslVerifyPeer = 0x01;
    public const int SslVerifyFailIfNoPeerCert = 0x02;

    public const ulong SslOpNoQueryMtu = 1UL << 12;
    public const ulong SslOpNoTicket = 1UL << 14;
    public const ulong SslOpNoRenegotiation = 1UL << 30;

    public const int SslCtrlSetMtu = 17;
    public const int SslCtrlSetSessCacheMode = 44;
    public const int DtlsCtrlGetTimeout = 73;
    public const int DtlsCtrlHandleTimeout = 74;
    public const int SslCtrlSetGroupsList = 92;
    public const int SslCtrlSetMinProtoVersion = 123;
    public const int Dtls1Version = 0xFEFF;

    public const int BioCtrlPending = 10;
    public const int BioCSetBufMemEofReturn = 130;

    public const int SslReceivedShutdown = 2;
    public const int SslAdReasonOffset = 1000;
    public const int SslAdHandshakeFailure = 40;
    public const int SslRPeerDidNotReturnACertificate = 199;
    public const int X509VErrCertRejected = 28;

    /// <summary>TLS extension numbers read from the ClientHello.</summary>
    public const uint ExtensionUseSrtp = 14;
    public const uint ExtensionExtendedMasterSecret = 23;

    private static readonly Lazy<bool> Available = new(Probe);

    /// <summary>True when libssl.so.3 loads and is OpenSSL 3.0 or newer (so the OpenSSL DTLS server can run).</summary>
    public static bool IsAvailable => Available.Value;

    private static bool Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        try
        {
            return OpenSSL_version_num() >= 0x30000000UL && DTLS_server_method() != IntPtr.Zero;
        }
        catch (Exception exception) when (exception is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return false;
        }
    }

    /// <summary>The calling thread's OpenSSL error queue as text (oldest first), emptied; null when it was empty.</summary>
    public static string? DrainErrors(out ulong first)
    {
        first = 0;
        StringBuilder? text = null;
        Span<byte> buffer = stackalloc byte[256];
        ulong error;
        while ((error = ERR_get_error()) != 0)
        {
            if (first == 0)
            {
                first = error;
            }

            fixed (byte* p = buffer)
            {
                ERR_error_string_n(error, p, (nuint)buffer.Length);
                var length = buffer.IndexOf((byte)0);
                text ??= new StringBuilder();
                if (text.Length > 0)
                {
                    text.Append("; ");
                }

                text.Append(Encoding.ASCII.GetString(buffer[..(length < 0 ? buffer.Length : length)]));
            }
        }

        return text?.ToString();
    }

    /// <summary>ERR_GET_REASON of OpenSSL 3 (the low 23 bits; system errors carry the top bit and are not reasons).</summary>
    public static int Reason(ulong error) => (error & 0x80000000UL) != 0 ? 0 : (int)(error & 0x7FFFFF);

    // ---- libcrypto ------------------------------------------------------------------------------------------------
    [LibraryImport(Crypto)]
    public static partial ulong OpenSSL_version_num();

    [LibraryImport(Crypto)]
    public static partial IntPtr OpenSSL_version(int type);

    /// <summary>"OpenSSL 3.0.19 27 Jan 2026" and the like.</summary>
    public static string Version() => Marshal.PtrToStringAnsi(OpenSSL_version(0)) ?? "OpenSSL";

    [LibraryImport(Crypto)]
    public static partial ulong ERR_get_error();

    [LibraryImport(Crypto)]
    public static partial void ERR_clear_error();

    [LibraryImport(Crypto)]
    public static partial void ERR_error_string_n(ulong error, byte* buffer, nuint length);

    [LibraryImport(Crypto)]
    public static partial IntPtr d2i_X509(IntPtr reuse, ref byte* input, long length);

    [LibraryImport(Crypto)]
    public static partial int i2d_X509(IntPtr x509, byte** output);

    [LibraryImport(Crypto)]
    public static partial void X509_free(IntPtr x509);

    [LibraryImport(Crypto)]
    public static partial IntPtr d2i_AutoPrivateKey(IntPtr reuse, ref byte* input, long length);

    [LibraryImport(Crypto)]
    public static partial void EVP_PKEY_free(IntPtr key);

    [LibraryImport(Crypto)]
    public static partial IntPtr X509_STORE_CTX_get0_cert(IntPtr context);

    [LibraryImport(Crypto)]
    public static partial void X509_STORE_CTX_set_error(IntPtr context, int error);

    [LibraryImport(Crypto)]
    public static partial IntPtr BIO_s_mem();

    [LibraryImport(Crypto)]
    public static partial IntPtr BIO_new(IntPtr method);

    [LibraryImport(Crypto)]
    public static partial void BIO_free(IntPtr bio);

    [LibraryImport(Crypto)]
    public static partial int BIO_write(IntPtr bio, byte* data, int length);

    [LibraryImport(Crypto)]
    public static partial int BIO_read(IntPtr bio, byte* data, int length);

    [LibraryImport(Crypto)]
    public static partial long BIO_ctrl(IntPtr bio, int command, long larg, IntPtr parg);

    // ---- libssl ---------------------------------------------------------------------------------------------------
    [LibraryImport(Ssl)]
    public static partial IntPtr DTLS_server_method();

    [LibraryImport(Ssl)]
    public static partial IntPtr SSL_CTX_new(IntPtr method);

    [LibraryImport(Ssl)]
    public static partial void SSL_CTX_free(IntPtr context);

    [LibraryImport(Ssl)]
    public static partial long SSL_CTX_ctrl(IntPtr context, int command, long larg, IntPtr parg);

    [LibraryImport(Ssl)]
    public static partial ulong SSL_CTX_set_options(IntPtr context, ulong options);

    [LibraryImport(Ssl)]
    public static partial int SSL_CTX_use_certificate(IntPtr context, IntPtr x509);

    [LibraryImport(Ssl)]
    public static partial int SSL_CTX_use_PrivateKey(IntPtr context, IntPtr key);

    [LibraryImport(Ssl)]
    public static partial int SSL_CTX_check_private_key(IntPtr context);

    [LibraryImport(Ssl)]
    public static partial int SSL_CTX_set_cipher_list(IntPtr context, byte* ciphers);

    [LibraryImport(Ssl)]
    public static partial void SSL_CTX_set_verify(IntPtr context, int mode, IntPtr callback);

    [LibraryImport(Ssl)]
    public static partial void SSL_CTX_set_cert_verify_callback(
        IntPtr context, delegate* unmanaged[Cdecl]<IntPtr, IntPtr, int> callback, IntPtr argument);

    [LibraryImport(Ssl)]
    public static partial void SSL_CTX_set_client_hello_cb(
        IntPtr context, delegate* unmanaged[Cdecl]<IntPtr, int*, IntPtr, int> callback, IntPtr argument);

    [LibraryImport(Ssl)]
    public static partial int SSL_client_hello_get0_ext(IntPtr ssl, uint type, out byte* data, out nuint length);

    [LibraryImport(Ssl)]
    public static partial IntPtr SSL_new(IntPtr context);

    [LibraryImport(Ssl)]
    public static partial void SSL_free(IntPtr ssl);

    [LibraryImport(Ssl)]
    public static partial void SSL_set_bio(IntPtr ssl, IntPtr readBio, IntPtr writeBio);

    [LibraryImport(Ssl)]
    public static partial void SSL_set_accept_state(IntPtr ssl);

    [LibraryImport(Ssl)]
    public static partial long SSL_ctrl(IntPtr ssl, int command, long larg, IntPtr parg);

    [LibraryImport(Ssl)]
    public static partial ulong SSL_set_options(IntPtr ssl, ulong options);

    [LibraryImport(Ssl)]
    public static partial int SSL_set_tlsext_use_srtp(IntPtr ssl, byte* profiles);

    [LibraryImport(Ssl)]
    public static partial IntPtr SSL_get_selected_srtp_profile(IntPtr ssl);

    [LibraryImport(Ssl)]
    public static partial int SSL_do_handshake(IntPtr ssl);

    [LibraryImport(Ssl)]
    public static partial int SSL_read(IntPtr ssl, byte* buffer, int length);

    [LibraryImport(Ssl)]
    public static partial int SSL_get_error(IntPtr ssl, int result);

    [LibraryImport(Ssl)]
    public static partial int SSL_shutdown(IntPtr ssl);

    [LibraryImport(Ssl)]
    public static partial int SSL_get_shutdown(IntPtr ssl);

    [LibraryImport(Ssl)]
    public static partial IntPtr SSL_get1_peer_certificate(IntPtr ssl);

    [LibraryImport(Ssl)]
    public static partial int SSL_export_keying_material(
        IntPtr ssl, byte* output, nuint length, byte* label, nuint labelLength, byte* context, nuint contextLength, int useContext);

    /// <summary>struct timeval on Linux x64.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct TimeVal
    {
        public long Seconds;
        public long Microseconds;
    }

    /// <summary>SRTP_PROTECTION_PROFILE: { const char *name; unsigned long id; }.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct SrtpProtectionProfile
    {
        public IntPtr Name;
        public nuint Id;
    }
}

/// <summary>An SSL_CTX; freed once (OpenSSL reference-counts it, so SSL objects made from it keep it alive).</summary>
internal sealed class SafeSslContextHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;

    public static SafeSslContextHandle Adopt(IntPtr context)
    {
        var safe = new SafeSslContextHandle();
        safe.SetHandle(context);
        return safe;
    }

    protected override bool ReleaseHandle()
    {
        OpenSslNative.SSL_CTX_free(handle);
        return true;
    }
}

/// <summary>An SSL object; SSL_free also frees the read and write BIOs it owns.</summary>
internal sealed class SafeSslHandle() : SafeHandle(IntPtr.Zero, ownsHandle: true)
{
    public override bool IsInvalid => handle == IntPtr.Zero;

    public static SafeSslHandle Adopt(IntPtr ssl)
    {
        var safe = new SafeSslHandle();
        safe.SetHandle(ssl);
        return safe;
    }

    protected override bool ReleaseHandle()
    {
        OpenSslNative.SSL_free(handle);
        return true;
    }
}
