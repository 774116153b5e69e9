using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Webinar.Contracts.Archives;
using Webinar.Contracts.Meetings;
using Webinar.Contracts.Nodes;
using Webinar.Contracts.Relay;
using Webinar.Contracts.Trust;
using Webinar.ControlPlane.Tests.Infrastructure;

namespace Webinar.ControlPlane.Tests.Trust;

/// <summary>
/// Bus messages are authenticated end to end on the real RabbitMQ: the control plane refuses heartbeats that are
/// unsigned, forged, in another node's name, stale or replayed (they go to the error queue, counted), and a node
/// accepts meeting events only from the control plane and relay requests only from the node they name.
/// </summary>
public sealed class BusTrustTests(TrustedControlPlaneFixture fixture) : IClassFixture<TrustedControlPlaneFixture>
{
    private BusTrust ControlPlaneTrust => fixture.Services.GetRequiredService<BusTrust>();

    [Fact]
    public async Task Heartbeats_signed_by_known_nodes_place_meetings_on_them()
    {
        var meeting = await ApiClient.CreateMeetingAsync(fixture.Client, "eu-west-1");

        var created = await fixture.Events.WaitForAsync<MeetingCreated>(e => e.MeetingId == meeting);
        Assert.Equal(ControlPlaneFixture.NodeId("eu-west-1"), created.NodeId);
    }

    [Fact]
    public async Task An_unsigned_heartbeat_is_refused_dead_lettered_and_never_registers_its_node()
    {
        var before = ControlPlaneTrust.RefusedCount(MessageRefusal.Unsigned);

        await fixture.Events.Bus.Publish(Heartbeat("node-unsigned"));

        await RefusedAsync(MessageRefusal.Unsigned, before);
        await ControlPlaneFixture.WaitUntilAsync(
            async () => await ErrorQueueMessagesAsync() > 0, TimeSpan.FromSeconds(30), "the refused heartbeat reaches the error queue");
        Assert.False(await NodeKnownAsync("node-unsigned"));
    }

    [Fact]
    public async Task A_node_cannot_heartbeat_in_another_nodes_name()
    {
        var before = ControlPlaneTrust.RefusedCount(MessageRefusal.WrongSender);
        var signer = ControlPlaneFixture.NodeId("us-east-1");

        await fixture.Events.Bus.Publish(Heartbeat("node-impersonated"), c => TrustKeys.Sign(c, fixture.Keys[signer], signer));

        await RefusedAsync(MessageRefusal.WrongSender, before);
        Assert.False(await NodeKnownAsync("node-impersonated"));
    }

    [Fact]
    public async Task A_sender_without_a_published_key_is_refused_until_its_key_is_provisioned()
    {
        using var intruder = System.Security.Cryptography.ECDsa.Create(System.Security.Cryptography.ECCurve.NamedCurves.nistP256);
        var before = ControlPlaneTrust.RefusedCount(MessageRefusal.UnknownSender);

        await fixture.Events.Bus.Publish(Heartbeat("node-intruder"), c => TrustKeys.Sign(c, intruder, "node-intruder"));
        await RefusedAsync(MessageRefusal.UnknownSender, before);
        Assert.False(await NodeKnownAsync("node-intruder"));

        var late = fixture.Keys.Add("node-late");
        await Task.Delay(500);
        await fixture.Events.Bus.Publish(Heartbeat("node-late"), c => TrustKeys.Sign(c, late, "node-late"));
        await ControlPlaneFixture.WaitUntilAsync(() => NodeKnownAsync("node-late"), TimeSpan.FromSeconds(30), "a node provisioned later is accepted");
    }

    [Fact]
    public async Task A_tampered_heartbeat_fails_its_signature()
    {
        var before = ControlPlaneTrust.RefusedCount(MessageRefusal.BadSignature);
        var nodeId = ControlPlaneFixture.NodeId("ap-southeast-1");
        var original = Heartbeat(nodeId);
        var messageId = NewId.NextGuid();
        var signedAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var signature = MessageSignature.Sign(fixture.Keys[nodeId], original, messageId, nodeId, signedAt);

        // The signature of a genuine heartbeat with load 0, on one that claims load 1000.
        await fixture.Events.Bus.Publish(original with { Load = 1000 }, c =>
        {
            c.MessageId = messageId;
            c.Headers.Set(MessageSignature.SenderHeader, nodeId);
            c.Headers.Set(MessageSignature.SignedAtHeader, signedAt.ToString(System.Globalization.CultureInfo.InvariantCulture));
            c.Headers.Set(MessageSignature.SignatureHeader, signature);
        });

        await RefusedAsync(MessageRefusal.BadSignature, before);
        Assert.NotEqual(1000, await fixture.QueryScalarAsync<int>("SELECT load FROM nodes WHERE node_id = @nodeId", new { nodeId }));
    }

    [Fact]
    public async Task A_replayed_or_stale_heartbeat_is_refused()
    {
        var nodeId = ControlPlaneFixture.NodeId("us-east-1");
        var key = fixture.Keys[nodeId];
        var replayedBefore = ControlPlaneTrust.RefusedCount(MessageRefusal.Replayed);
        var staleBefore = ControlPlaneTrust.RefusedCount(MessageRefusal.Stale);
        var heartbeat = Heartbeat(nodeId);
        var messageId = NewId.NextGuid();
        var at = DateTimeOffset.UtcNow;

        await fixture.Events.Bus.Publish(heartbeat, c => { c.MessageId = messageId; TrustKeys.Sign(c, key, nodeId, at); });
        await fixture.Events.Bus.Publish(heartbeat, c => { c.MessageId = messageId; TrustKeys.Sign(c, key, nodeId, at); });
        await fixture.Events.Bus.Publish(Heartbeat(nodeId), c => TrustKeys.Sign(c, key, nodeId, DateTimeOffset.UtcNow.AddMinutes(-10)));

        await RefusedAsync(MessageRefusal.Replayed, replayedBefore);
        await RefusedAsync(MessageRefusal.Stale, staleBefore);
    }

    [Fact]
    public async Task A_node_accepts_meeting_events_only_from_the_control_plane_and_relay_requests_only_from_the_node_they_name()
    {
        var nodeId = ControlPlaneFixture.NodeId("eu-west-1");
        await using var node = await TrustedNodeBus.StartAsync(fixture, nodeId);
        var peer = ControlPlaneFixture.NodeId("us-east-1");
        var third = ControlPlaneFixture.NodeId("ap-southeast-1");
        var meeting = await ApiClient.CreateMeetingAsync(fixture.Client, "eu-west-1");
        await node.WaitForAsync<MeetingCreated>(m => m.MeetingId == meeting);

        // Forged control-plane events: unsigned, and signed by a node.
        await fixture.Events.Bus.Publish(new MeetingDeleted(meeting, null, [], MeetingDeletionReason.Api, DateTimeOffset.UtcNow));
        await fixture.Events.Bus.Publish(new AttendeeDeleted(meeting, Guid.NewGuid(), "someone", DateTimeOffset.UtcNow), c => TrustKeys.Sign(c, fixture.Keys[peer], peer));
        // A relay link opened in another node's name, and one opened by the node it names.
        var queue = await node.Bus.GetSendEndpoint(new Uri("queue:" + node.QueueName));
        var keys = new RelayKeys(7, [1, 2, 3]);
        await queue.Send(new OpenRelayLink(Guid.NewGuid(), third, "127.0.0.1", 40000, keys), c => TrustKeys.Sign(c, fixture.Keys[peer], peer));
        var genuine = Guid.NewGuid();
        await queue.Send(new OpenRelayLink(genuine, peer, "127.0.0.1", 40001, keys), c => TrustKeys.Sign(c, fixture.Keys[peer], peer));

        await node.WaitForAsync<OpenRelayLink>(m => m.LinkId == genuine);
        await ControlPlaneFixture.WaitUntilAsync(
            () => Task.FromResult(node.Trust.RefusedCount(MessageRefusal.Unsigned) >= 1 && node.Trust.RefusedCount(MessageRefusal.WrongSender) >= 2),
            TimeSpan.FromSeconds(30), "the node refuses the forged messages");
        Assert.Empty(node.All<MeetingDeleted>());
        Assert.Empty(node.All<AttendeeDeleted>());
        Assert.Single(node.All<OpenRelayLink>());

        // The real deletion, signed by the control plane, is accepted.
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await ApiClient.DeleteAsync(fixture.Client, $"/meetings/{meeting}")).Status);
        await node.WaitForAsync<MeetingDeleted>(m => m.MeetingId == meeting);
    }

    [Fact]
    public async Task A_node_accepts_archive_starts_only_from_the_control_plane_and_archive_reports_only_in_the_senders_own_name()
    {
        var nodeId = ControlPlaneFixture.NodeId("eu-west-1");
        await using var node = await TrustedNodeBus.StartAsync(fixture, nodeId);
        var peer = ControlPlaneFixture.NodeId("us-east-1");
        var third = ControlPlaneFixture.NodeId("ap-southeast-1");
        var meeting = Guid.NewGuid();
        var archive = Guid.NewGuid();
        var now = DateTimeOffset.UtcNow;
        var settings = new ArchiveSettings("forged", ArchiveOutputMode.Composed, true, true, 1280, 720, ArchiveLayout.Grid, TimeSpan.FromMinutes(5));

        // A node tells another to record a meeting (only the control plane starts archives), and reports a stop in a
        // third node's name.
        await fixture.Events.Bus.Publish(new ArchiveStarted(archive, meeting, nodeId, settings, now), c => TrustKeys.Sign(c, fixture.Keys[peer], peer));
        await fixture.Events.Bus.Publish(new ArchiveStopped(archive, meeting, ArchiveStopReasons.MaxDuration, now, third), c => TrustKeys.Sign(c, fixture.Keys[peer], peer));
        // A stop in the sender's own name passes the bus (whether it is obeyed is for the archive's consumers to decide).
        var own = Guid.NewGuid();
        await fixture.Events.Bus.Publish(new ArchiveStopped(own, meeting, ArchiveStopReasons.MaxDuration, now, peer), c => TrustKeys.Sign(c, fixture.Keys[peer], peer));

        await node.WaitForAsync<ArchiveStopped>(m => m.ArchiveId == own);
        await ControlPlaneFixture.WaitUntilAsync(
            () => Task.FromResult(node.Trust.RefusedCount(MessageRefusal.WrongSender) >= 2),
            TimeSpan.FromSeconds(30), "the node refuses the forged archive messages");
        Assert.Empty(node.All<ArchiveStarted>());
        Assert.Single(node.All<ArchiveStopped>());
    }

    private static NodeHeartbeat Heartbeat(string nodeId) =>
        new(nodeId, "us-east-1", ControlPlaneFixture.SignalingUrl(nodeId), 0, [], DateTimeOffset.UtcNow);

    private Task RefusedAsync(MessageRefusal refusal, long before) =>
        ControlPlaneFixture.WaitUntilAsync(
            () => Task.FromResult(ControlPlaneTrust.RefusedCount(refusal) > before), TimeSpan.FromSeconds(30), $"a {refusal} refusal");

    private async Task<bool> NodeKnownAsync(string nodeId) =>
        await fixture.QueryScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM nodes WHERE node_id = @nodeId)", new { nodeId });

    private async Task<int> ErrorQueueMessagesAsync()
    {
        var output = await fixture.Rabbit.CtlAsync("list_queues", "-p", fixture.VirtualHost, "name", "messages");
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split('\t'))
            .Where(p => p.Length == 2 && p[0].EndsWith("_error", StringComparison.Ordinal) && int.TryParse(p[1], out _))
            .Sum(p => int.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture));
    }
}

/// <summary>A bus as an SFU node runs it (trust on, its own queue), recording what reaches its consumer.</summary>
internal sealed class TrustedNodeBus : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly IBusControl _bus;

    private TrustedNodeBus(ServiceProvider services, string queue)
    {
        _services = services;
        _bus = services.GetRequiredService<IBusControl>();
        QueueName = queue;
    }

    public string QueueName { get; }

    public IBus Bus => _bus;

    public BusTrust Trust => _services.GetRequiredService<BusTrust>();

    public static async Task<TrustedNodeBus> StartAsync(TrustedControlPlaneFixture fixture, string nodeId)
    {
        var queue = "test-node-" + Guid.NewGuid().ToString("N");
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Trust:KeysDirectory"] = fixture.Keys.Directory,
        }).Build());
        services.AddBusTrust(_ => nodeId);
        services.AddSingleton<Recorder>();
        services.AddMassTransit(bus =>
        {
            bus.AddConsumer<RecordingConsumer>();
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(fixture.Rabbit.Host, (ushort)fixture.RabbitPort, fixture.VirtualHost, h =>
                {
                    h.Username("guest");
                    h.Password("guest");
                });
                rabbit.UseBusTrust(context);
                rabbit.UseMessageRetry(r =>
                {
                    r.None();
                    r.IgnoreRefusals();
                });
                rabbit.ReceiveEndpoint(queue, e => e.ConfigureConsumer<RecordingConsumer>(context));
            });
        });
        var provider = services.BuildServiceProvider();
        var node = new TrustedNodeBus(provider, queue);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await node._bus.StartAsync(timeout.Token);
        return node;
    }

    public IReadOnlyList<T> All<T>() => _services.GetRequiredService<Recorder>().All<T>();

    public async Task<T> WaitForAsync<T>(Func<T, bool> predicate)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (DateTime.UtcNow < deadline)
        {
            if (All<T>().FirstOrDefault(predicate) is { } found)
            {
                return found;
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"The node consumed no matching {typeof(T).Name}.");
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await _bus.StopAsync(timeout.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await _services.DisposeAsync();
    }

    internal sealed class Recorder
    {
        private readonly List<object> _messages = [];

        public void Add(object message)
        {
            lock (_messages)
            {
                _messages.Add(message);
            }
        }

        public IReadOnlyList<T> All<T>()
        {
            lock (_messages)
            {
                return _messages.OfType<T>().ToList();
            }
        }
    }

    internal sealed class RecordingConsumer(Recorder recorder) :
        IConsumer<MeetingCreated>, IConsumer<MeetingDeleted>, IConsumer<AttendeeDeleted>, IConsumer<OpenRelayLink>,
        IConsumer<ArchiveStarted>, IConsumer<ArchiveStopped>
    {
        public Task Consume(ConsumeContext<ArchiveStarted> context) => Record(context.Message);

        public Task Consume(ConsumeContext<ArchiveStopped> context) => Record(context.Message);

        public Task Consume(ConsumeContext<MeetingCreated> context) => Record(context.Message);

        public Task Consume(ConsumeContext<MeetingDeleted> context) => Record(context.Message);

        public Task Consume(ConsumeContext<AttendeeDeleted> context) => Record(context.Message);

        public Task Consume(ConsumeContext<OpenRelayLink> context) => Record(context.Message);

        private Task Record(object message)
        {
            recorder.Add(message);
            return Task.CompletedTask;
        }
    }
}
