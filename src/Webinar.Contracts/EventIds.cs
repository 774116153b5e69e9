namespace Webinar.Contracts;

/// <summary>Every event id the shared contracts code logs with, in one place.</summary>
internal static class EventIds
{
    // 9000–9099: bus trust (Trust/)
    public const int BusMessageRefused = 9001;
    public const int BusTrustNotConfigured = 9002;
}
