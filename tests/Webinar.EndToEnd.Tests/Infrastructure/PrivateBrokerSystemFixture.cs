namespace Webinar.EndToEnd.Tests.Infrastructure;

/// <summary>The whole system on a RabbitMQ of its own, which a test may stop and start again.</summary>
public sealed class PrivateBrokerSystemFixture : WebinarSystemFixture
{
    public PrivateRabbitBroker PrivateBroker => (PrivateRabbitBroker)Broker;

    protected override RabbitBroker CreateBroker() => new PrivateRabbitBroker();
}
