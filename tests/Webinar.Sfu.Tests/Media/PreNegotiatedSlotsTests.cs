using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Webinar.Connector.Client;
using Webinar.Media.Sdp;
using Webinar.Sfu.Hosting;
using Webinar.Sfu.Media;
using Webinar.Sfu.Sessions;

namespace Webinar.Sfu.Tests.Media;

/// <summary>
/// Pre-negotiated slots on the node's real media plane in process (loopback UDP, its media loop) with C# WebRTC
/// clients: new streams start on spare receive slots, and a promoted replica attendee publishes on its send slots,
/// both without any offer after the first.
/// </summary>
public sealed class PreNegotiatedSlotsTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    private readonly MediaWorker _worker;
    private readonly NodeMediaPlane _plane;
    private readonly Guid _primaryId = Guid.NewGuid();
    private readonly Guid _replicaId = Guid.NewGuid();
    private IMeetingMedia _primary = null!;
    private IMeetingMedia _replica = null!;

    public PreNegotiatedSlotsTests() : this(TimeSpan.FromMinutes(10))
    {
    }

    private PreNegotiatedSlotsTests(TimeSpan topUpDelay)
    {
        var options = new SfuOptions
        {
            UdpPort = 0,
            AnnouncedIp = "127.0.0.1",
            SpareReceiveSlots = 2,
            SpareSlotTopUpDelay = topUpDelay,
        };
        _worker = MediaWorker.FromOptions(options, new MediaLimitsOptions(), TimeProvider.System, NullLoggerFactory.Instance);
        _plane = new NodeMediaPlane(Options.Create(options), _worker, NullLoggerFactory.Instance);
    }

    public async Task InitializeAsync()
    {
        await _plane.StartAsync(CancellationToken.None);
        _primary = _plane.OpenMeeting(new MeetingMediaPlacement(_primaryId, "node", null, null), new NoStreams());
        _replica = _plane.OpenMeeting(new MeetingMediaPlacement(_replicaId, "node", _primaryId, null), new NoStreams());
    }

    public async Task DisposeAsync()
    {
        await _replica.DisposeAsync();
        await _primary.DisposeAsync();
        _worker.Dispose();
        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }
    }

    [Fact]
    public async Task A_new_stream_starts_on_a_spare_slot_of_a_pre_negotiated_viewer_without_any_renegotiation()
    {
        var (viewerClient, viewer, viewerEvents) = await ViewerAsync(_primary);
        var spareSsrc = viewerEvents.FirstAnswerSsrc(viewerClient.Tracks[0].Mid);
        Assert.NotEqual(0u, spareSsrc);

        using var presenterClient = new WebRtcClient();
        var audio = presenterClient.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendOnly);
        var presenter = _primary.AddPeer(new MediaPeer(Guid.NewGuid(), _primaryId, Guid.NewGuid(), "presenter", MediaKinds.Audio | MediaKinds.Video), new Events());
        await ConnectAsync(presenterClient, presenter);

        var slots = await viewerEvents.NextSlotsAsync(s => s.Count == 1);
        Assert.Equal(viewerClient.Tracks[0].Mid, slots[0].Mid);
        Assert.Equal("presenter", slots[0].Stream.ExternalUserId);
        await SendUntilReceivedAsync(presenterClient, audio, viewerClient, spareSsrc);

        // The stream ends: the slot is free again, still without a renegotiation.
        var unpublished = await presenter.AnswerAsync(OfferWithout(presenterClient), CancellationToken.None);
        Assert.Null(unpublished.Message);
        Assert.Empty(await viewerEvents.NextSlotsAsync(s => s.Count == 0));
        Assert.Empty(viewerEvents.Renegotiations);
        await viewer.DisposeAsync();
    }

    [Fact]
    public async Task A_promoted_replica_attendee_publishes_on_its_pre_negotiated_send_slot_without_a_re_offer_and_demotion_stops_it()
    {
        var (viewerClient, _, viewerEvents) = await ViewerAsync(_primary);
        var spareSsrc = viewerEvents.FirstAnswerSsrc(viewerClient.Tracks[0].Mid);

        using var audienceClient = new WebRtcClient();
        audienceClient.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.RecvOnly);
        var sendSlot = audienceClient.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendOnly);
        var audienceEvents = new Events();
        var audienceId = Guid.NewGuid();
        var audience = _replica.AddPeer(new MediaPeer(Guid.NewGuid(), _replicaId, audienceId, "audience", MediaKinds.None) { PreNegotiated = true }, audienceEvents);
        var answer = await ConnectAsync(audienceClient, audience);
        Assert.Equal(SdpDirection.RecvOnly, Parse(answer).Media.Single(m => m.Mid == sendSlot.Mid).Direction);

        // In the audience, what it sends goes nowhere.
        for (var i = 0; i < 25; i++)
        {
            audienceClient.SendAudio(sendSlot);
            await Task.Delay(20);
        }

        Assert.Empty(viewerEvents.SlotChanges);
        Assert.DoesNotContain(viewerClient.Received, r => r.Ssrc == spareSsrc && r.Packets > 0);

        var speakerId = Guid.NewGuid();
        var promoted = await audience.PromoteAsync(new MediaPromotion(_primaryId, speakerId, "speaker", MediaKinds.Audio | MediaKinds.Video), CancellationToken.None);
        Assert.True(promoted.Outcome.Succeeded, promoted.Outcome.Message);

        var slots = await viewerEvents.NextSlotsAsync(s => s.Count == 1);
        Assert.Equal(speakerId, slots[0].Stream.AttendeeId);
        await SendUntilReceivedAsync(audienceClient, sendSlot, viewerClient, spareSsrc);

        var demoted = await audience.DemoteAsync(CancellationToken.None);
        Assert.True(demoted.Succeeded);
        Assert.Empty(await viewerEvents.NextSlotsAsync(s => s.Count == 0));
        Assert.Empty(viewerEvents.Renegotiations);
        Assert.Empty(audienceEvents.Renegotiations);
    }

    [Fact]
    public async Task A_used_spare_slot_is_topped_up_in_the_background_with_a_renegotiation_asking_for_the_spares_again()
    {
        var test = new PreNegotiatedSlotsTests(TimeSpan.FromMilliseconds(50));
        await test.InitializeAsync();
        try
        {
            await test.TopUpAsync();
        }
        finally
        {
            await test.DisposeAsync();
        }
    }

    private async Task TopUpAsync()
    {
        var (_, _, viewerEvents) = await ViewerAsync(_primary);

        using var presenterClient = new WebRtcClient();
        presenterClient.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.SendOnly);
        var presenter = _primary.AddPeer(new MediaPeer(Guid.NewGuid(), _primaryId, Guid.NewGuid(), "presenter", MediaKinds.Audio), new Events());
        await ConnectAsync(presenterClient, presenter);

        await viewerEvents.NextSlotsAsync(s => s.Count == 1);
        var deadline = DateTime.UtcNow + Patience;
        while (!viewerEvents.Renegotiations.Contains((3, 2)))
        {
            Assert.True(DateTime.UtcNow < deadline, "no top-up renegotiation for 1 + 2 audio and 0 + 2 video slots");
            await Task.Delay(20);
        }
    }

    /// <summary>A pre-negotiating viewer with two spare audio and two spare video slots, connected.</summary>
    private async Task<(WebRtcClient Client, IPeerMedia Peer, Events Events)> ViewerAsync(IMeetingMedia meeting)
    {
        var client = new WebRtcClient();
        client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.RecvOnly);
        client.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.RecvOnly);
        client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.RecvOnly);
        client.AddTrack(ClientMediaKind.Video, ClientTrackDirection.RecvOnly);
        var events = new Events();
        var meetingId = meeting == _primary ? _primaryId : _replicaId;
        var peer = meeting.AddPeer(new MediaPeer(Guid.NewGuid(), meetingId, Guid.NewGuid(), "viewer", MediaKinds.None) { PreNegotiated = true }, events);
        var answer = await ConnectAsync(client, peer);
        events.FirstAnswer = Parse(answer);
        _disposables.Add(client);
        return (client, peer, events);
    }

    private readonly List<IDisposable> _disposables = [];

    private static async Task<string> ConnectAsync(WebRtcClient client, IPeerMedia peer)
    {
        var answer = await peer.AnswerAsync(client.CreateOffer(), CancellationToken.None);
        Assert.Null(answer.Message);
        Assert.True(client.TryApplyAnswer(answer.Sdp!, out var error), error);
        await client.ConnectedAsync(Patience);
        return answer.Sdp!;
    }

    private static string OfferWithout(WebRtcClient client)
    {
        foreach (var track in client.Tracks)
        {
            track.OfferedDirection = ClientTrackDirection.Inactive;
        }

        return client.CreateOffer();
    }

    private static async Task SendUntilReceivedAsync(WebRtcClient sender, ClientTrack track, WebRtcClient receiver, uint ssrc)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!receiver.Received.Any(r => r.Ssrc == ssrc && r.Packets >= 10))
        {
            Assert.True(DateTime.UtcNow < deadline, $"nothing arrived on the spare slot's SSRC {ssrc}");
            sender.SendAudio(track);
            await Task.Delay(20);
        }
    }

    private static SessionDescription Parse(string sdp)
    {
        Assert.True(SdpParser.TryParse(sdp, out var parsed, out var error), error);
        return parsed;
    }

    private sealed class NoStreams : IMeetingMediaListener
    {
        public void OnStreamPublished(MediaStreamInfo stream)
        {
        }

        public void OnStreamUnpublished(MediaStreamInfo stream)
        {
        }
    }

    private sealed class Events : IPeerMediaListener
    {
        public ConcurrentQueue<(int Audio, int Video)> Renegotiations { get; } = new();

        public ConcurrentQueue<IReadOnlyList<MediaSlot>> SlotChanges { get; } = new();

        public SessionDescription? FirstAnswer { get; set; }

        public uint FirstAnswerSsrc(string mid) => FirstAnswer!.Media.Single(m => m.Mid == mid).Ssrcs.Single().Ssrc;

        public void OnRenegotiationNeeded(int audio, int video) => Renegotiations.Enqueue((audio, video));

        public void OnTransportClosed(string reason)
        {
        }

        public void OnSlotsChanged(IReadOnlyList<MediaSlot> slots) => SlotChanges.Enqueue(slots);

        public async Task<IReadOnlyList<MediaSlot>> NextSlotsAsync(Func<IReadOnlyList<MediaSlot>, bool> match)
        {
            var deadline = DateTime.UtcNow + Patience;
            while (true)
            {
                while (SlotChanges.TryDequeue(out var slots))
                {
                    if (match(slots))
                    {
                        return slots;
                    }
                }

                Assert.True(DateTime.UtcNow < deadline, "no slots change as expected");
                await Task.Delay(20);
            }
        }
    }
}
