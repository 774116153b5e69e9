using Webinar.EndToEnd.Tests.Infrastructure;

namespace Webinar.EndToEnd.Tests.Network;

/// <summary>The TURN and TLS tests share one <see cref="TurnSystemFixture"/> (namespaces, coturn, certificates).</summary>
[CollectionDefinition(Name)]
public sealed class TurnCollection : ICollectionFixture<TurnSystemFixture>
{
    public const string Name = "turn";
}
