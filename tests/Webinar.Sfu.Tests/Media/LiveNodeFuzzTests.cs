using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using FsCheck;
using FsCheck.Fluent;
using Webinar.Connector.Client;
using Webinar.Media.Dtls;
using Webinar.Media.Ice;
using Webinar.Media.Sdp;
using Webinar.Sfu.Tests.Infrastructure;
using Webinar.Sfu.Tests.Signaling;
using Xunit.Abstractions;

namespace Webinar.Sfu.Tests.Media;

/// <summary>
/// The fuzzing campaign: a real node process with a meeting running (a C# presenter publishing audio and video, a
/// C# viewer receiving), then 10⁶ malformed or mutated STUN, DTLS, RTP and RTCP datagrams at its media port (from
/// strangers, and from an address that passed ICE for a transport of its own) and 10⁴ malformed signalling frames.
/// The viewer keeps receiving, the node stays up, and its counters account for every datagram it received.
/// Time-boxed: the datagrams stop after <see cref="DatagramBox"/> even if fewer were sent (the figures say so).
/// </summary>
public sealed class LiveNodeFuzzTests(ITestOutputHelper output)
{
    private const int DatagramTarget = 1_000_000;
    private const int FrameTarget = 10_000;
    private static readonly TimeSpan DatagramBox = TimeSpan.FromSeconds(45);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_million_hostile_datagrams_and_ten_thousand_bad_frames_leave_the_meeting_flowing_and_every_datagram_counted()
    {
        await using var node = await SfuNodeProcess.StartAsync();
        var peers = new List<IAsyncDisposable>();
        try
        {
            var meeting = await node.CreateMeetingAsync();
            var options = new WebRtcClientOptions { Certificate = DtlsCertificate.Generate() };

            var (presenterSignaling, presenter) = await JoinAsync(node, meeting, "presenter", options, peers, publish: true);
            await presenter.ConnectedAsync(Patience);
            using var pump = new MediaPump(presenter, presenter.Tracks[0], presenter.Tracks[1], videoBitrate: 300_000, framesPerSecond: 15);
            pump.Start();

            var (_, viewer) = await JoinAsync(node, meeting, "viewer", options, peers, publish: false);
            await viewer.ConnectedAsync(Patience);
            await WaitUntilAsync(() => ViewerPackets(viewer) > 20, "the viewer received no media before the campaign", node);

            // An address that passed ICE (USE-CANDIDATE) for a transport of its own and never does DTLS: its
            // datagrams reach a real transport (DTLS handshake, RTP/RTCP before keys).
            var (bound, boundCheck) = await BindRawAddressAsync(node, meeting, options, peers);
            using var _b = bound;
            var strangers = new Socket[4];
            for (var i = 0; i < strangers.Length; i++)
            {
                strangers[i] = Loopback();
            }

            var (signalingFuzzer, _) = await JoinSignalingAsync(node, meeting, "frame-fuzzer");
            peers.Add(signalingFuzzer);

            var before = await node.CountersAsync();
            var kernelBefore = UdpReceiveBufferErrors();
            var viewerBefore = ViewerPackets(viewer);

            var frames = Task.Run(() => SendBadFramesAsync(signalingFuzzer));
            var clock = Stopwatch.StartNew();
            var sent = SendHostileDatagrams(node.MediaEndPoint, strangers, bound, boundCheck, clock);
            var datagramSeconds = clock.Elapsed.TotalSeconds;
            var viewerDuring = ViewerPackets(viewer) - viewerBefore;
            var (framesSent, errorsReceived) = await frames.WaitAsync(TimeSpan.FromSeconds(120));

            // Media still flows after the campaign, and the node is up and serving.
            var viewerAfterCampaign = ViewerPackets(viewer);
            await WaitUntilAsync(() => ViewerPackets(viewer) > viewerAfterCampaign + 50, "the viewer stopped receiving after the campaign", node);
            Assert.False(node.HasExited, node.Log());
            var (late, _) = await JoinSignalingAsync(node, meeting, "after-campaign");
            await late.DisposeAsync();

            // Let the loop drain what is still queued in its socket, then read a consistent set of counters.
            await Task.Delay(TimeSpan.FromSeconds(1));
            var after = await node.CountersAsync();
            var kernelDrops = UdpReceiveBufferErrors() - kernelBefore;
            foreach (var socket in strangers)
            {
                socket.Dispose();
            }

            var received = after.DatagramsReceived - before.DatagramsReceived;
            var dropped = after.Dropped - before.Dropped;
            var answered = (after.StunAnswered - before.StunAnswered) + (after.DtlsReceived - before.DtlsReceived);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"datagrams sent {sent:N0} in {datagramSeconds:0.0} s ({sent / datagramSeconds:N0}/s); node received {received:N0}; kernel receive-buffer drops (whole host) {kernelDrops:N0}"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"dropped {dropped:N0}: malformed {after.Malformed - before.Malformed:N0}, unknown source {after.UnknownSource - before.UnknownSource:N0}, not keyed {after.NotKeyed - before.NotKeyed:N0}, unknown SSRC {after.UnknownSsrc - before.UnknownSsrc:N0}, SRTP rejected {after.SrtpRejected - before.SrtpRejected:N0}, handler errors {after.HandlerErrors - before.HandlerErrors:N0}; STUN answered + DTLS handed over {answered:N0}"));
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"signalling frames sent {framesSent:N0}, error frames back {errorsReceived:N0}; viewer packets during the datagrams {viewerDuring:N0}"));

            Assert.Equal(after.DatagramsReceived, after.Handled + after.Dropped);
            Assert.True(dropped + answered >= sent - kernelDrops,
                $"{sent} hostile datagrams sent, {kernelDrops} lost in the kernel, but only {dropped + answered} dropped or answered");
            Assert.Equal(before.HandlerErrors, after.HandlerErrors);
            Assert.True(sent >= DatagramTarget / 10, $"only {sent} datagrams went out in {DatagramBox}");
            Assert.Equal(FrameTarget, framesSent);
            Assert.Equal(FrameTarget, errorsReceived);
            Assert.True(viewerDuring > 0, "the viewer received nothing while the datagrams arrived");
        }
        catch (Exception e) when (e is not Xunit.Sdk.XunitException)
        {
            throw new InvalidOperationException(node.Log(), e);
        }
        finally
        {
            foreach (var peer in peers)
            {
                await peer.DisposeAsync();
            }
        }
    }

    private static int SendHostileDatagrams(IPEndPoint target, Socket[] strangers, Socket bound, byte[] validCheck, Stopwatch clock)
    {
        var hostile = new HostileDatagrams(5764, validCheck);
        var buffer = new byte[1500];
        var sent = 0;
        while (sent < DatagramTarget && clock.Elapsed < DatagramBox)
        {
            var fromBound = sent % 10 == 0;
            var length = hostile.Next(buffer);
            try
            {
                (fromBound ? bound : strangers[sent & 3]).SendTo(buffer.AsSpan(0, length), SocketFlags.None, target);
                sent++;
            }
            catch (SocketException)
            {
                // A full send buffer: the datagram never left, so it is not counted as sent.
                Thread.Sleep(1);
            }

            if ((sent & 255) == 0)
            {
                Thread.Yield();
            }
        }

        return sent;
    }

    private static async Task<(int Sent, int Errors)> SendBadFramesAsync(SignalingClient client)
    {
        // Mutated valid frames and random strings; never a leave, never an offer (a mutated offer may be valid and
        // get an answer rather than an error), never invalid UTF-8 (that closes the connection, by RFC 6455).
        var generator = Gen.OneOf(FrameFuzzTests.Mutated(), ArbMap.Default.GeneratorFor<string>().Where(s => s is not null));
        var inputs = new List<string>(FrameTarget);
        while (inputs.Count < FrameTarget)
        {
            foreach (var input in generator.Sample(2000, 40))
            {
                if (inputs.Count < FrameTarget && !input.Contains("leave", StringComparison.Ordinal) && !input.Contains("offer", StringComparison.Ordinal))
                {
                    inputs.Add(input);
                }
            }
        }

        // Pipelined in windows: the node answers frames in order, one error each.
        const int window = 100;
        var errors = 0;
        for (var start = 0; start < inputs.Count; start += window)
        {
            var end = Math.Min(inputs.Count, start + window);
            for (var i = start; i < end; i++)
            {
                await client.SendTextAsync(inputs[i]);
            }

            for (var i = start; i < end; i++)
            {
                var reply = await client.ExpectAsync("error", Patience);
                errors += reply.GetProperty("code").GetString() is { Length: > 0 } ? 1 : 0;
            }
        }

        return (inputs.Count, errors);
    }

    private static async Task<(SignalingClient Signaling, WebRtcClient Client)> JoinAsync(
        SfuNodeProcess node, Guid meeting, string user, WebRtcClientOptions options, List<IAsyncDisposable> peers, bool publish)
    {
        var (signaling, joined) = await JoinSignalingAsync(node, meeting, user);
        peers.Add(signaling);
        var client = new WebRtcClient(options);
        peers.Add(new Disposing(client));
        var direction = publish ? ClientTrackDirection.SendOnly : ClientTrackDirection.RecvOnly;
        client.AddTrack(ClientMediaKind.Audio, direction);
        client.AddTrack(ClientMediaKind.Video, direction);
        var answer = await OfferAsync(signaling, client.CreateOffer());
        Assert.True(client.TryApplyAnswer(answer, out var error), error);
        return (signaling, client);
    }

    private static async Task<(SignalingClient Client, JsonElement Joined)> JoinSignalingAsync(SfuNodeProcess node, Guid meeting, string user)
    {
        // The node learns the meeting from the bus; on a loaded machine that can take longer than its join waits.
        for (var attempt = 1; ; attempt++)
        {
            var client = await SignalingClient.ConnectAsync(node.SignalingUrl);
            await client.SendAsync(new { type = "join", token = node.Keys.Token(meeting, Guid.NewGuid(), user) });
            try
            {
                return (client, await client.ExpectAsync("joined", Patience));
            }
            catch (InvalidOperationException) when (attempt < 5)
            {
                await client.DisposeAsync();
                await Task.Delay(TimeSpan.FromSeconds(1));
            }
        }
    }

    private static async Task<string> OfferAsync(SignalingClient signaling, string offer)
    {
        await signaling.SendAsync(new { type = "offer", sdp = offer });
        return (await signaling.ExpectAsync("answer", Patience)).GetProperty("sdp").GetString()!;
    }

    /// <summary>
    /// Offers as a viewer would, then does ICE from a raw socket with the offer's credentials (no DTLS). Returns the
    /// socket and its valid check, the seed that STUN mutations start from.
    /// </summary>
    private static async Task<(Socket Socket, byte[] Check)> BindRawAddressAsync(SfuNodeProcess node, Guid meeting, WebRtcClientOptions options, List<IAsyncDisposable> peers)
    {
        var (signaling, _) = await JoinSignalingAsync(node, meeting, "raw-ice");
        peers.Add(signaling);
        var offerer = new WebRtcClient(options);
        peers.Add(new Disposing(offerer));
        offerer.AddTrack(ClientMediaKind.Audio, ClientTrackDirection.RecvOnly);
        var answerText = await OfferAsync(signaling, offerer.CreateOffer());
        Assert.True(SdpParser.TryParse(answerText, out var answer, out var parseError), parseError);
        var ufrag = answer.IceUfrag ?? answer.Media[0].IceUfrag!;
        var pwd = answer.IcePwd ?? answer.Media[0].IcePwd!;
        var ice = new IceControllingClient(offerer.LocalIceCredentials, ufrag, pwd, TimeProvider.System);

        var socket = Loopback();
        var check = new byte[512];
        var length = ice.WriteBindingRequest(check, nominate: true);
        var response = new byte[1500];
        var deadline = DateTime.UtcNow + Patience;
        while (DateTime.UtcNow < deadline)
        {
            socket.SendTo(check.AsSpan(0, length), SocketFlags.None, node.MediaEndPoint);
            if (socket.Poll(TimeSpan.FromMilliseconds(200), SelectMode.SelectRead)
                && ice.ProcessResponse(response.AsSpan(0, socket.Receive(response))) == IceCheckResult.Succeeded)
            {
                return (socket, check[..length]);
            }
        }

        socket.Dispose();
        throw new TimeoutException("The node never answered the raw socket's ICE check.");
    }

    private static long ViewerPackets(WebRtcClient viewer)
    {
        long packets = 0;
        foreach (var stream in viewer.Received)
        {
            packets += stream.Packets;
        }

        return packets;
    }

    /// <summary>RcvbufErrors of the host's UDP (/proc/net/snmp): datagrams the kernel dropped for a full socket buffer.</summary>
    private static long UdpReceiveBufferErrors()
    {
        var lines = File.ReadAllLines("/proc/net/snmp").Where(l => l.StartsWith("Udp:", StringComparison.Ordinal)).ToArray();
        var names = lines[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var values = lines[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return long.Parse(values[Array.IndexOf(names, "RcvbufErrors")], CultureInfo.InvariantCulture);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string message, SfuNodeProcess node)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, message + Environment.NewLine + node.Log());
            await Task.Delay(100);
        }
    }

    private static Socket Loopback()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        socket.SendBufferSize = 1 << 20;
        return socket;
    }

    private sealed class Disposing(IDisposable inner) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            inner.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
