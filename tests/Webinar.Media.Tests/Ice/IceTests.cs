using Microsoft.Extensions.Time.Testing;
using System.Net;
using Webinar.Media.Ice;
using Webinar.Media.Stun;
using Webinar.Media.Tests.Fuzzing;

namespace Webinar.Media.Tests.Ice;

public sealed class IceTests
{
    private static readonly IPEndPoint ClientEndpoint = new(IPAddress.Parse("198.51.100.20"), 40000);
    private static readonly IPEndPoint OtherClientEndpoint = new(IPAddress.Parse("2001:db8::20"), 40002);

    private readonly FakeTimeProvider _time = new();
    private readonly IceCredentials _server = IceCredentials.Generate();
    private readonly IceCredentials _client = IceCredentials.Generate();

    [Fact]
    public void Client_and_lite_agent_connect_and_nominate_in_memory()
    {
        IceLiteAgent agent = NewAgent();
        IceControllingClient client = NewClient();

        IceLiteResult result = Exchange(client, agent, ClientEndpoint, out IceCheckResult clientResult);

        Assert.Equal(IceLiteResult.AnsweredAndSelected, result);
        Assert.Equal(IceCheckResult.Succeeded, clientResult);
        Assert.True(client.IsConnected);
        Assert.True(client.IsNominated);
        Assert.Equal(ClientEndpoint, client.MappedAddress);
        Assert.Equal(ClientEndpoint.Serialize(), agent.SelectedEndpoint);
        Assert.True(agent.IsSelected(ClientEndpoint.Serialize()));
        Assert.True(agent.HasConsent());
        Assert.True(client.HasConsent());
    }

    [Fact]
    public void Check_with_the_wrong_password_gets_a_401_and_selects_nothing()
    {
        IceLiteAgent agent = NewAgent();
        var client = new IceControllingClient(_client, _server.Ufrag, "not-the-password-at-all", _time);

        IceLiteResult result = Exchange(client, agent, ClientEndpoint, out IceCheckResult clientResult);

        Assert.Equal(IceLiteResult.Rejected, result);
        Assert.Equal(IceCheckResult.Failed, clientResult);
        Assert.Equal(StunErrorCode.Unauthenticated, client.LastErrorCode);
        Assert.False(client.IsConnected);
        Assert.Null(agent.SelectedEndpoint);
        Assert.False(agent.HasConsent());
    }

    [Fact]
    public void Check_for_another_ufrag_gets_a_401()
    {
        IceLiteAgent agent = NewAgent();
        var client = new IceControllingClient(_client, "someone-else", _server.Password, _time);

        Assert.Equal(IceLiteResult.Rejected, Exchange(client, agent, ClientEndpoint, out _));
        Assert.Equal(StunErrorCode.Unauthenticated, client.LastErrorCode);
    }

    [Fact]
    public void Known_remote_ufrag_must_match_the_username()
    {
        IceLiteAgent agent = NewAgent();
        agent.RemoteUfrag = "expected-peer";

        Assert.Equal(IceLiteResult.Rejected, Exchange(NewClient(), agent, ClientEndpoint, out _));
        agent.RemoteUfrag = _client.Ufrag;
        Assert.Equal(IceLiteResult.AnsweredAndSelected, Exchange(NewClient(), agent, ClientEndpoint, out _));
    }

    [Fact]
    public void Request_without_message_integrity_gets_a_400()
    {
        IceLiteAgent agent = NewAgent();
        var request = new byte[128];
        var writer = new StunMessageWriter(request, StunClass.Request, StunMethod.Binding, new byte[12]);
        writer.AddUsername(System.Text.Encoding.UTF8.GetBytes(_server.Ufrag + ":" + _client.Ufrag));
        writer.AddFingerprint();
        Assert.True(writer.TryComplete(out int length));

        var response = new byte[IceLiteAgent.MaxResponseLength];
        IceLiteResult result = agent.ProcessRequest(request.AsSpan(0, length), ClientEndpoint.Serialize(), response,
            out int responseLength);

        Assert.Equal(IceLiteResult.Rejected, result);
        Assert.True(StunMessage.TryParse(response.AsSpan(0, responseLength), out StunMessage message));
        Assert.True(message.TryGetErrorCode(out int code, out _));
        Assert.Equal(StunErrorCode.BadRequest, code);
    }

    [Fact]
    public void Request_with_a_bad_fingerprint_is_dropped_silently()
    {
        IceLiteAgent agent = NewAgent();
        var request = new byte[256];
        int length = NewClient().WriteBindingRequest(request, nominate: true);
        request[length - 1] ^= 0xFF;

        var response = new byte[IceLiteAgent.MaxResponseLength];
        Assert.Equal(IceLiteResult.Dropped,
            agent.ProcessRequest(request.AsSpan(0, length), ClientEndpoint.Serialize(), response, out int written));
        Assert.Equal(0, written);
    }

    [Fact]
    public void Peer_claiming_the_controlled_role_gets_a_signed_487()
    {
        IceLiteAgent agent = NewAgent();
        var request = new byte[256];
        var writer = new StunMessageWriter(request, StunClass.Request, StunMethod.Binding, new byte[12]);
        writer.AddUsername(System.Text.Encoding.UTF8.GetBytes(_server.Ufrag + ":" + _client.Ufrag));
        writer.AddIceControlled(42);
        writer.AddMessageIntegrity(System.Text.Encoding.UTF8.GetBytes(_server.Password));
        writer.AddFingerprint();
        Assert.True(writer.TryComplete(out int length));

        var response = new byte[IceLiteAgent.MaxResponseLength];
        Assert.Equal(IceLiteResult.Rejected,
            agent.ProcessRequest(request.AsSpan(0, length), ClientEndpoint.Serialize(), response, out int written));
        Assert.True(StunMessage.TryParse(response.AsSpan(0, written), out StunMessage message));
        Assert.True(message.TryGetErrorCode(out int code, out _));
        Assert.Equal(StunErrorCode.RoleConflict, code);
        Assert.True(message.VerifyMessageIntegrity(System.Text.Encoding.UTF8.GetBytes(_server.Password)));
        Assert.Null(agent.SelectedEndpoint);
    }

    [Fact]
    public void Consent_expires_30_seconds_after_the_last_valid_check()
    {
        IceLiteAgent agent = NewAgent();
        IceControllingClient client = NewClient();
        Exchange(client, agent, ClientEndpoint, out _);

        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.True(agent.HasConsent());
        Assert.Equal(IceLiteResult.Answered, Exchange(client, agent, ClientEndpoint, out _)); // consent check

        _time.Advance(TimeSpan.FromSeconds(29.9));
        Assert.True(agent.HasConsent());
        Assert.True(client.HasConsent());

        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.False(agent.HasConsent());
        Assert.False(client.HasConsent());
        Assert.False(agent.HasConsent(_time.GetUtcNow() + TimeSpan.FromDays(1)));
    }

    [Fact]
    public void Selected_endpoint_moves_only_to_a_newly_nominated_one()
    {
        IceLiteAgent agent = NewAgent();
        IceControllingClient client = NewClient();
        Exchange(client, agent, ClientEndpoint, out _);

        // A valid check from elsewhere without USE-CANDIDATE is answered but changes nothing, not even consent.
        _time.Advance(TimeSpan.FromSeconds(25));
        Assert.Equal(IceLiteResult.Answered, SendCheck(client, agent, OtherClientEndpoint, nominate: false));
        Assert.True(agent.IsSelected(ClientEndpoint.Serialize()));
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.False(agent.HasConsent());

        // The controlling side nominates the new path: media moves there and consent restarts.
        Assert.Equal(IceLiteResult.AnsweredAndSelected, SendCheck(client, agent, OtherClientEndpoint, nominate: true));
        Assert.True(agent.IsSelected(OtherClientEndpoint.Serialize()));
        Assert.True(agent.HasConsent());
    }

    [Fact]
    public void Client_paces_checks_until_nominated_then_sends_consent_checks_every_few_seconds()
    {
        IceLiteAgent agent = NewAgent();
        IceControllingClient client = NewClient();
        var buffer = new byte[256];

        Assert.True(client.TryWriteDueCheck(buffer, out _)); // lost in the network
        Assert.False(client.TryWriteDueCheck(buffer, out _));
        _time.Advance(IceControllingClient.CheckInterval);
        Assert.True(client.TryWriteDueCheck(buffer, out int length));
        Assert.Equal(IceCheckResult.Succeeded, Deliver(agent, client, buffer.AsSpan(0, length), ClientEndpoint));
        Assert.True(client.IsNominated);

        _time.Advance(TimeSpan.FromSeconds(3.9));
        Assert.False(client.TryWriteDueCheck(buffer, out _));
        _time.Advance(TimeSpan.FromSeconds(2.2));
        Assert.True(client.TryWriteDueCheck(buffer, out length));
        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out StunMessage consentCheck));
        Assert.False(consentCheck.HasAttribute(StunAttributeType.UseCandidate));
        Assert.True(consentCheck.TryGetIceControlling(out ulong tieBreaker));
        Assert.Equal(client.TieBreaker, tieBreaker);
        Assert.True(consentCheck.TryGetPriority(out uint priority));
        Assert.Equal(IceControllingClient.DefaultPriority, priority);
    }

    [Fact]
    public void Client_ignores_responses_it_did_not_ask_for_or_that_fail_integrity()
    {
        IceLiteAgent agent = NewAgent();
        IceControllingClient client = NewClient();
        IceControllingClient stranger = NewClient();
        var request = new byte[256];
        var response = new byte[IceLiteAgent.MaxResponseLength];

        int length = stranger.WriteBindingRequest(request, nominate: true);
        agent.ProcessRequest(request.AsSpan(0, length), ClientEndpoint.Serialize(), response, out int written);
        Assert.Equal(IceCheckResult.Ignored, client.ProcessResponse(response.AsSpan(0, written)));

        // A success response to our own check, but signed with a password other than the peer's.
        length = client.WriteBindingRequest(request, nominate: true);
        Assert.True(StunMessage.TryParse(request.AsSpan(0, length), out StunMessage ours));
        var writer = new StunMessageWriter(response, StunClass.SuccessResponse, StunMethod.Binding, ours.TransactionId);
        writer.AddXorMappedAddress(ClientEndpoint);
        writer.AddMessageIntegrity("another-password-entirely"u8);
        writer.AddFingerprint();
        Assert.True(writer.TryComplete(out written));
        Assert.Equal(IceCheckResult.Ignored, client.ProcessResponse(response.AsSpan(0, written)));
        Assert.False(client.IsConnected);
    }

    [Fact]
    public void Generated_credentials_are_random_ice_chars_of_sufficient_length()
    {
        IceCredentials a = IceCredentials.Generate();
        IceCredentials b = IceCredentials.Generate();
        Assert.True(a.Ufrag.Length >= 4 && a.Password.Length >= 22);
        Assert.NotEqual(a.Ufrag, b.Ufrag);
        Assert.NotEqual(a.Password, b.Password);
        foreach (char c in a.Ufrag + a.Password)
        {
            Assert.True(char.IsAsciiLetterOrDigit(c) || c is '+' or '/', $"'{c}' is not an ice-char");
        }
    }

    [Fact]
    public void Random_and_mutated_datagrams_never_make_the_agent_or_client_throw_or_answer_success()
    {
        IceLiteAgent agent = NewAgent();
        IceControllingClient client = NewClient();
        var valid = new byte[256];
        int length = client.WriteBindingRequest(valid, nominate: true);
        byte[] request = valid.AsSpan(0, length).ToArray();
        var response = new byte[IceLiteAgent.MaxResponseLength];
        SocketAddress source = ClientEndpoint.Serialize();

        int answered = 0;
        foreach (byte[] mutant in FuzzStunSrtpInputs.Mutations(request, 10_000, seed: 8445))
        {
            if (agent.ProcessRequest(mutant, source, response, out int written) is IceLiteResult.Answered
                or IceLiteResult.AnsweredAndSelected && !mutant.AsSpan().SequenceEqual(request))
            {
                answered++;
            }

            _ = client.ProcessResponse(mutant);
            _ = client.ProcessResponse(response.AsSpan(0, written));
        }

        foreach (byte[] datagram in FuzzStunSrtpInputs.RandomDatagrams(10_000, seed: 7675))
        {
            Assert.Equal(IceLiteResult.Dropped, agent.ProcessRequest(datagram, source, response, out _));
            Assert.Equal(IceCheckResult.Ignored, client.ProcessResponse(datagram));
        }

        // MESSAGE-INTEGRITY and FINGERPRINT cover every byte, padding included: no mutation may be answered.
        Assert.Equal(0, answered);
    }

    private IceLiteAgent NewAgent() => new(_server, _time);

    private IceControllingClient NewClient() => new(_client, _server.Ufrag, _server.Password, _time);

    private static IceLiteResult Exchange(
        IceControllingClient client, IceLiteAgent agent, IPEndPoint from, out IceCheckResult clientResult)
    {
        var request = new byte[256];
        int length = client.WriteBindingRequest(request, nominate: !client.IsNominated);
        var response = new byte[IceLiteAgent.MaxResponseLength];
        IceLiteResult result = agent.ProcessRequest(request.AsSpan(0, length), from.Serialize(), response, out int written);
        clientResult = written > 0 ? client.ProcessResponse(response.AsSpan(0, written)) : IceCheckResult.Ignored;
        return result;
    }

    private static IceLiteResult SendCheck(IceControllingClient client, IceLiteAgent agent, IPEndPoint from, bool nominate)
    {
        var request = new byte[256];
        int length = client.WriteBindingRequest(request, nominate);
        var response = new byte[IceLiteAgent.MaxResponseLength];
        return agent.ProcessRequest(request.AsSpan(0, length), from.Serialize(), response, out _);
    }

    private static IceCheckResult Deliver(
        IceLiteAgent agent, IceControllingClient client, ReadOnlySpan<byte> request, IPEndPoint from)
    {
        var response = new byte[IceLiteAgent.MaxResponseLength];
        agent.ProcessRequest(request, from.Serialize(), response, out int written);
        return client.ProcessResponse(response.AsSpan(0, written));
    }
}
