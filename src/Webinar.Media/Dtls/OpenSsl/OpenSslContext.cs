using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;

namespace Webinar.Media.Dtls.OpenSsl;

/// <summary>
/// The SSL_CTX of one <see cref="DtlsCertificate"/>: DTLS server method (1.0–1.2), our certificate and key loaded from
/// their DER (so the fingerprint the SDP announces is unchanged), ECDHE_ECDSA suites, X25519 then P-256, a client
/// certificate required and checked against the SDP fingerprint, no session tickets or cache, no renegotiation.
/// One per certificate for the process (the node has one), shared by every association.
/// </summary>
internal sealed unsafe class OpenSslContext
{
    private static readonly ConditionalWeakTable<DtlsCertificate, OpenSslContext> Contexts = new();

    private OpenSslContext(SafeSslContextHandle handle)
    {
        Handle = handle;
    }

    public SafeSslContextHandle Handle { get; }

    /// <summary>The shared context of <paramref name="certificate"/>, made on first use.</summary>
    public static OpenSslContext For(DtlsCertificate certificate) => Contexts.GetValue(certificate, Create);

    private static OpenSslContext Create(DtlsCertificate certificate)
    {
        OpenSslNative.ERR_clear_error();
        var context = OpenSslNative.SSL_CTX_new(OpenSslNative.DTLS_server_method());
        if (context == IntPtr.Zero)
        {
            throw Failure("SSL_CTX_new");
        }

        var handle = SafeSslContextHandle.Adopt(context);
        try
        {
            UseCertificate(context, certificate);
            OpenSslNative.SSL_CTX_set_options(
                context, OpenSslNative.SslOpNoQueryMtu | OpenSslNative.SslOpNoTicket | OpenSslNative.SslOpNoRenegotiation);
            OpenSslNative.SSL_CTX_ctrl(context, OpenSslNative.SslCtrlSetSessCacheMode, 0, IntPtr.Zero);
            OpenSslNative.SSL_CTX_ctrl(context, OpenSslNative.SslCtrlSetMinProtoVersion, OpenSslNative.Dtls1Version, IntPtr.Zero);
            fixed (byte* ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA\0"u8)
            {
                if (OpenSslNative.SSL_CTX_set_cipher_list(context, ciphers) != 1)
                {
                    throw Failure("SSL_CTX_set_cipher_list");
                }
            }

            fixed (byte* groups = "X25519:P-256\0"u8)
            {
                if (OpenSslNative.SSL_CTX_ctrl(context, OpenSslNative.SslCtrlSetGroupsList, 0, (IntPtr)groups) != 1)
                {
                    throw Failure("SSL_CTX_set1_groups_list");
                }
            }

            OpenSslNative.SSL_CTX_set_verify(context, OpenSslNative.SslVerifyPeer | OpenSslNative.SslVerifyFailIfNoPeerCert, IntPtr.Zero);
            OpenSslNative.SSL_CTX_set_cert_verify_callback(context, &VerifyCertificate, IntPtr.Zero);
            OpenSslNative.SSL_CTX_set_client_hello_cb(context, &InspectClientHello, IntPtr.Zero);
            return new OpenSslContext(handle);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static void UseCertificate(IntPtr context, DtlsCertificate certificate)
    {
        var der = certificate.Der.Span;
        fixed (byte* start = der)
        {
            var cursor = start;
            var x509 = OpenSslNative.d2i_X509(IntPtr.Zero, ref cursor, der.Length);
            if (x509 == IntPtr.Zero)
            {
                throw Failure("d2i_X509");
            }

            try
            {
                if (OpenSslNative.SSL_CTX_use_certificate(context, x509) != 1)
                {
                    throw Failure("SSL_CTX_use_certificate");
                }
            }
            finally
            {
                OpenSslNative.X509_free(x509);
            }
        }

        byte[] pkcs8;
        using (var key = certificate.CreateSigningKey())
        {
            pkcs8 = key.ExportPkcs8PrivateKey();
        }

        try
        {
            fixed (byte* start = pkcs8)
            {
                var cursor = start;
                var key = OpenSslNative.d2i_AutoPrivateKey(IntPtr.Zero, ref cursor, pkcs8.Length);
                if (key == IntPtr.Zero)
                {
                    throw Failure("d2i_AutoPrivateKey");
                }

                try
                {
                    if (OpenSslNative.SSL_CTX_use_PrivateKey(context, key) != 1 || OpenSslNative.SSL_CTX_check_private_key(context) != 1)
                    {
                        throw Failure("SSL_CTX_use_PrivateKey");
                    }
                }
                finally
                {
                    OpenSslNative.EVP_PKEY_free(key);
                }
            }
        }
        finally
        {
            Array.Clear(pkcs8);
        }
    }

    private static InvalidOperationException Failure(string call) =>
        new($"OpenSSL {call} failed: {OpenSslNative.DrainErrors(out _) ?? "no error queued"}.");

    /// <summary>The OpenSSL profile list ("SRTP_AEAD_AES_128_GCM:SRTP_AES128_CM_SHA1_80") in our order of preference.</summary>
    public static byte[] SrtpProfileList(IReadOnlyList<ushort> profiles)
    {
        var text = new StringBuilder();
        foreach (var profile in profiles)
        {
            var name = profile switch
            {
                SrtpProfiles.AeadAes128Gcm => "SRTP_AEAD_AES_128_GCM",
                SrtpProfiles.Aes128CmHmacSha1_80 => "SRTP_AES128_CM_SHA1_80",
                _ => null,
            };
            if (name is not null)
            {
                text.Append(text.Length == 0 ? "" : ":").Append(name);
            }
        }

        return Encoding.ASCII.GetBytes(text.Append('\0').ToString());
    }

    // Both callbacks run inside SSL_do_handshake on the thread that called it, which set OpenSslDtlsServer.Current.
    // An exception must never cross back into OpenSSL: each catches everything and fails the handshake instead.

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int InspectClientHello(IntPtr ssl, int* alert, IntPtr argument)
    {
        try
        {
            if (OpenSslDtlsServer.Current is { } server && server.AcceptClientHello(ssl))
            {
                return 1;
            }
        }
        catch (Exception)
        {
            // Falls through to a refusal.
        }

        *alert = OpenSslNative.SslAdHandshakeFailure;
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int VerifyCertificate(IntPtr storeContext, IntPtr argument)
    {
        try
        {
            if (OpenSslDtlsServer.Current is { } server && server.AcceptPeerCertificate(OpenSslNative.X509_STORE_CTX_get0_cert(storeContext)))
            {
                return 1;
            }
        }
        catch (Exception)
        {
            // Falls through to a refusal.
        }

        OpenSslNative.X509_STORE_CTX_set_error(storeContext, OpenSslNative.X509VErrCertRejected);
        return 0;
    }
}
