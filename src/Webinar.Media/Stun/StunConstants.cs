namespace Webinar.Media.Stun;

/// <summary>The class bits of a STUN message type (RFC 8489 §5).</summary>
public enum StunClass : byte
{
    Request = 0,
    Indication = 1,
    SuccessResponse = 2,
    ErrorResponse = 3,
}

/// <summary>STUN methods this stack speaks.</summary>
public enum StunMethod : ushort
{
    Binding = 0x001,
}

/// <summary>Attribute types (RFC 8489 §18.3, RFC 8445 §16.1).</summary>
public static class StunAttributeType
{
    public const ushort MappedAddress = 0x0001;
    public const ushort Username = 0x0006;
    public const ushort MessageIntegrity = 0x0008;
    public const ushort ErrorCode = 0x0009;
    public const ushort UnknownAttributes = 0x000A;
    public const ushort Realm = 0x0014;
    public const ushort Nonce = 0x0015;
    public const ushort MessageIntegritySha256 = 0x001C;
    public const ushort XorMappedAddress = 0x0020;
    public const ushort Priority = 0x0024;
    public const ushort UseCandidate = 0x0025;
    public const ushort Software = 0x8022;
    public const ushort Fingerprint = 0x8028;
    public const ushort IceControlled = 0x8029;
    public const ushort IceControlling = 0x802A;
}

/// <summary>Error codes used by binding and ICE (RFC 8489 §14.8, RFC 8445 §7.3.1.1).</summary>
public static class StunErrorCode
{
    public const int BadRequest = 400;
    public const int Unauthenticated = 401;
    public const int RoleConflict = 487;
}

internal static class StunConstants
{
    public const int HeaderLength = 20;
    public const int TransactionIdLength = 12;
    public const uint MagicCookie = 0x2112A442;
    public const int MessageIntegrityLength = 20;
    public const int FingerprintLength = 4;
    public const uint FingerprintXor = 0x5354554E;
    public const byte FamilyIPv4 = 0x01;
    public const byte FamilyIPv6 = 0x02;

    public static ushort ComposeType(StunClass stunClass, StunMethod method)
    {
        int m = (int)method;
        int c = (int)stunClass;
        int type = (m & 0x000F) | ((m & 0x0070) << 1) | ((m & 0x0F80) << 2)
            | ((c & 0x1) << 4) | ((c & 0x2) << 7);
        return (ushort)type;
    }

    public static StunClass ClassOf(ushort type) => (StunClass)(((type >> 4) & 0x1) | ((type >> 7) & 0x2));

    public static StunMethod MethodOf(ushort type) =>
        (StunMethod)((type & 0x000F) | ((type >> 1) & 0x0070) | ((type >> 2) & 0x0F80));
}
