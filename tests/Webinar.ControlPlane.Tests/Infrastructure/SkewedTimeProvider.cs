namespace Webinar.ControlPlane.Tests.Infrastructure;

/// <summary>The system clock shifted by a fixed offset: a control-plane instance on a machine whose clock is wrong.</summary>
internal sealed class SkewedTimeProvider(TimeSpan offset) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + offset;
}
