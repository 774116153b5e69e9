namespace Webinar.Sfu.Tests.Infrastructure;

[CollectionDefinition(Name)]
public sealed class SfuNodeCollection : ICollectionFixture<SfuNodeFixture>
{
    public const string Name = "sfu-node";
}
