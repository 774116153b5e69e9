namespace Webinar.Media.Dtls;

/// <summary>The one exception a failed <see cref="DtlsTransport.HandshakeAsync"/> task carries; <see cref="Error"/> says why.</summary>
public sealed class DtlsHandshakeException : Exception
{
    public DtlsHandshakeException(DtlsError error, string message, Exception? inner = null)
        : base(message, inner)
    {
        Error = error;
    }

    public DtlsError Error { get; }
}
