using System.Collections.Concurrent;
using Webinar.Media.Dtls;
using Webinar.Media.Srtp;
using SrtpProfiles = Webinar.Media.Dtls.SrtpProfiles;

namespace Webinar.Media.Tests.Dtls;

/// <summary>
/// The OpenSSL server (real libssl.so.3) against the BouncyCastle client over an in-memory datagram pair: two
/// independent DTLS stacks, so agreeing keys and a working SRTP round trip show each exports RFC 5764 keys correctly.
/// Behaviour every engine shares (close_notify, cancellation) is in <see cref="DtlsTransportTests"/>, whose servers run
/// the default engine, OpenSSL on this machine (<see cref="A_server_on_this_machine_runs_openssl_by_default_and_a_client_bouncycastle"/>).
/// </summary>
public sealed class OpenSslDtlsServerTests
{
    private static readonly DtlsCertificate ServerCertificate = DtlsCertificate.Generate();
    private static readonly DtlsCertificate ClientCertificate = DtlsCertificate.Generate();
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(30);
    private static readonly DtlsTransportOptions OpenSsl = new() { ServerEngine = DtlsEngine.OpenSsl };

    private static (InMemoryDatagramLink Link, DtlsTransport Server, DtlsTransport Client) Pair(
        DtlsTransportOptions? serverOptions = null,
        DtlsTransportOptions? clientOptions = null,
        DtlsFingerprint? serverExpects = null,
        IDatagramSender? serverSender = null)
    {
        var link = new InMemoryDatagramLink();
        var server = new DtlsTransport(DtlsRole.Server, ServerCertificate, serverExpects ?? ClientCertificate.Fingerprint, serverSender ?? link.ServerSender, serverOptions ?? OpenSsl);
        var client = new DtlsTransport(DtlsRole.Client, ClientCertificate, ServerCertificate.Fingerprint, link.ClientSender, clientOptions);
        link.Server = server;
        link.Client = client;
        Assert.Equal(DtlsEngine.OpenSsl, server.Engine);
        Assert.Equal(DtlsEngine.BouncyCastle, client.Engine);
        return (link, server, client);
    }

    [Fact]
    public void A_server_on_this_machine_runs_openssl_by_default_and_a_client_bouncycastle()
    {
        using var server = new DtlsTransport(DtlsRole.Server, ServerCertificate, ClientCertificate.Fingerprint, new BlackHoleSender());
        using var client = new DtlsTransport(DtlsRole.Client, ClientCertificate, ServerCertificate.Fingerprint, new BlackHoleSender());

        Assert.Equal(DtlsEngine.OpenSsl, server.Engine);
        Assert.Equal(DtlsEngine.BouncyCastle, client.Engine);

        // The fallback is chosen only when asked for; a client is BouncyCastle whatever the option says.
        var bouncyCastle = new DtlsTransportOptions { ServerEngine = DtlsEngine.BouncyCastle };
        using var fallback = new DtlsTransport(DtlsRole.Server, ServerCertificate, ClientCertificate.Fingerprint, new BlackHoleSender(), bouncyCastle);
        using var openSslClient = new DtlsTransport(DtlsRole.Client, ClientCertificate, ServerCertificate.Fingerprint, new BlackHoleSender(), OpenSsl);
        Assert.Equal(DtlsEngine.BouncyCastle, fallback.Engine);
        Assert.Equal(DtlsEngine.BouncyCastle, openSslClient.Engine);
    }

    [Theory]
    [InlineData(SrtpProfiles.AeadAes128Gcm)]
    [InlineData(SrtpProfiles.Aes128CmHmacSha1_80)]
    public async Task OpenSsl_server_and_bouncycastle_client_derive_the_same_keys_and_srtp_round_trips(ushort profile)
    {
        var (_, server, client) = Pair(clientOptions: new DtlsTransportOptions { SrtpProfiles = [profile] });

        var keys = await Task.WhenAll(server.HandshakeAsync(), client.HandshakeAsync()).WaitAsync(TestTimeout);
        var (serverKeys, clientKeys) = (keys[0], keys[1]);

        Assert.Equal(profile, serverKeys.ProtectionProfile);
        Assert.Equal(profile, clientKeys.ProtectionProfile);
        Assert.Equal(serverKeys.LocalMasterKey, clientKeys.RemoteMasterKey);
        Assert.Equal(serverKeys.LocalMasterSalt, clientKeys.RemoteMasterSalt);
        Assert.Equal(clientKeys.LocalMasterKey, serverKeys.RemoteMasterKey);
        Assert.Equal(clientKeys.LocalMasterSalt, serverKeys.RemoteMasterSalt);
        Assert.NotEqual(serverKeys.LocalMasterKey, serverKeys.RemoteMasterKey);
        Assert.Equal(DtlsTransportState.Connected, server.State);

        // An RTP packet the server protects with its local keys unprotects on the client with its remote keys, and back.
        byte[] rtp = Convert.FromHexString("80e01234" + "00000064" + "11223344" + "0102030405060708090a0b0c");
        AssertRoundTrip(rtp, (SrtpProfile)profile, serverKeys.LocalMasterKey, serverKeys.LocalMasterSalt, clientKeys.RemoteMasterKey, clientKeys.RemoteMasterSalt);
        AssertRoundTrip(rtp, (SrtpProfile)profile, clientKeys.LocalMasterKey, clientKeys.LocalMasterSalt, serverKeys.RemoteMasterKey, serverKeys.RemoteMasterSalt);
    }

    private static void AssertRoundTrip(byte[] plain, SrtpProfile profile, byte[] sendKey, byte[] sendSalt, byte[] receiveKey, byte[] receiveSalt)
    {
        using var sender = new SrtpSession(profile, sendKey, sendSalt);
        using var receiver = new SrtpSession(profile, receiveKey, receiveSalt);
        var buffer = new byte[plain.Length + SrtpSession.MaxOverhead];
        plain.CopyTo(buffer, 0);

        Assert.Equal(SrtpResult.Ok, sender.ProtectRtp(buffer, plain.Length, out var protectedLength));
        Assert.NotEqual(plain.AsSpan(12).ToArray(), buffer.AsSpan(12, plain.Length - 12).ToArray());
        Assert.Equal(SrtpResult.Ok, receiver.UnprotectRtp(buffer, protectedLength, out var plainLength));
        Assert.Equal(plain, buffer.AsSpan(0, plainLength).ToArray());
    }

    [Fact]
    public async Task Server_prefers_its_first_profile_whatever_the_clients_order()
    {
        var reversed = new DtlsTransportOptions { SrtpProfiles = [SrtpProfiles.Aes128CmHmacSha1_80, SrtpProfiles.AeadAes128Gcm] };
        var (_, server, client) = Pair(clientOptions: reversed);

        var keys = await Task.WhenAll(server.HandshakeAsync(), client.HandshakeAsync()).WaitAsync(TestTimeout);

        Assert.Equal(SrtpProfiles.AeadAes128Gcm, keys[0].ProtectionProfile);
        Assert.Equal(SrtpProfiles.AeadAes128Gcm, keys[1].ProtectionProfile);
    }

    [Fact]
    public async Task A_client_certificate_that_does_not_match_the_sdp_fingerprint_fails_with_fingerprint_mismatch()
    {
        var stranger = DtlsCertificate.Generate().Fingerprint;
        var (_, server, client) = Pair(serverExpects: stranger);

        var serverTask = server.HandshakeAsync();
        var clientTask = client.HandshakeAsync();

        var serverError = await Assert.ThrowsAsync<DtlsHandshakeException>(() => serverTask.WaitAsync(TestTimeout));
        Assert.Equal(DtlsError.FingerprintMismatch, serverError.Error);
        Assert.Contains(stranger.ToString(), serverError.Message, StringComparison.Ordinal);
        Assert.Contains(ClientCertificate.Fingerprint.ToString(), serverError.Message, StringComparison.Ordinal);
        var clientError = await Assert.ThrowsAsync<DtlsHandshakeException>(() => clientTask.WaitAsync(TestTimeout));
        Assert.Equal(DtlsError.PeerAlert, clientError.Error);
        Assert.Equal(DtlsTransportState.Failed, server.State);
        Assert.Equal(DtlsError.FingerprintMismatch, await server.Closed.WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task No_common_srtp_profile_fails_on_the_server_and_alerts_the_client()
    {
        var (_, server, client) = Pair(
            serverOptions: OpenSsl with { SrtpProfiles = [SrtpProfiles.AeadAes128Gcm] },
            clientOptions: new DtlsTransportOptions { SrtpProfiles = [SrtpProfiles.Aes128CmHmacSha1_80] });

        var serverTask = server.HandshakeAsync();
        var clientTask = client.HandshakeAsync();

        var serverError = await Assert.ThrowsAsync<DtlsHandshakeException>(() => serverTask.WaitAsync(TestTimeout));
        Assert.Equal(DtlsError.NoCommonSrtpProfile, serverError.Error);
        var clientError = await Assert.ThrowsAsync<DtlsHandshakeException>(() => clientTask.WaitAsync(TestTimeout));
        Assert.Equal(DtlsError.PeerAlert, clientError.Error);
    }

    [Fact]
    public async Task A_client_that_stops_answering_times_out_after_the_server_retransmitted_its_flight()
    {
        var options = OpenSsl with { HandshakeTimeout = TimeSpan.FromSeconds(4) };
        var (link, server, client) = Pair(serverOptions: options, clientOptions: new DtlsTransportOptions { HandshakeTimeout = TimeSpan.FromSeconds(4) });
        var serverHellos = 0;
        link.ClientToServerFilter = (index, _) => index == 0; // only the first ClientHello reaches the server
        link.ServerToClientFilter = (_, datagram) =>
        {
            // Count the flights the server sends: each begins with a ServerHello (handshake type 2) at epoch 0.
            if (datagram[0] == DtlsRecordHeader.Handshake && datagram[DtlsRecordHeader.Size] == 2)
            {
                Interlocked.Increment(ref serverHellos);
            }

            return false;
        };

        var serverTask = server.HandshakeAsync();
        var clientTask = client.HandshakeAsync();

        var error = await Assert.ThrowsAsync<DtlsHandshakeException>(() => serverTask.WaitAsync(TestTimeout));
        Assert.Equal(DtlsError.Timeout, error.Error);
        Assert.Equal(DtlsTransportState.Failed, server.State);
        Assert.Equal(DtlsError.Timeout, await server.Closed.WaitAsync(TestTimeout));
        Assert.True(serverHellos >= 2, $"the server should have retransmitted its flight (sent {serverHellos})");
        await Assert.ThrowsAsync<DtlsHandshakeException>(() => clientTask.WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task A_server_that_never_hears_from_its_client_times_out()
    {
        using var server = new DtlsTransport(
            DtlsRole.Server, ServerCertificate, ClientCertificate.Fingerprint, new BlackHoleSender(), OpenSsl with { HandshakeTimeout = TimeSpan.FromSeconds(1) });

        var error = await Assert.ThrowsAsync<DtlsHandshakeException>(() => server.HandshakeAsync().WaitAsync(TestTimeout));

        Assert.Equal(DtlsError.Timeout, error.Error);
    }

    [Fact]
    public async Task Closing_during_the_handshake_fails_it_with_locally_closed()
    {
        var (link, server, client) = Pair();
        var closed = 0;
        link.ServerToClientFilter = (_, _) =>
        {
            // The server's first flight is out: close it mid-handshake, before the client can answer.
            if (Interlocked.Exchange(ref closed, 1) == 0)
            {
                server.Close();
            }

            return false;
        };

        var serverTask = server.HandshakeAsync();
        var clientTask = client.HandshakeAsync();

        var error = await Assert.ThrowsAsync<DtlsHandshakeException>(() => serverTask.WaitAsync(TestTimeout));
        Assert.Equal(DtlsError.LocallyClosed, error.Error);
        Assert.Equal(DtlsError.LocallyClosed, await server.Closed.WaitAsync(TestTimeout));
        Assert.Equal(DtlsTransportState.Closed, server.State);
        client.Close();
        await Assert.ThrowsAsync<DtlsHandshakeException>(() => clientTask.WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task Garbage_datagrams_are_dropped_and_counted_and_the_handshake_still_completes()
    {
        var (link, server, client) = Pair();
        var random = new Random(6347);
        var injected = 0;
        link.ClientToServerFilter = (_, _) =>
        {
            // Before every real datagram: bytes that are not a DTLS record, a record header claiming more than follows,
            // and a truncated record. None may reach OpenSSL or throw.
            var noise = new byte[random.Next(1, 300)];
            random.NextBytes(noise);
            noise[1] = 0x00;
            server.OnDatagram(noise);
            server.OnDatagram([22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 9, 0xFF, 0xFF]);
            server.OnDatagram([22, 0xFE, 0xFD, 0, 0]);
            Interlocked.Add(ref injected, 3);
            return true;
        };

        var keys = await Task.WhenAll(server.HandshakeAsync(), client.HandshakeAsync()).WaitAsync(TestTimeout);

        Assert.Equal(keys[0].LocalMasterKey, keys[1].RemoteMasterKey);
        Assert.True(injected >= 6);
        Assert.Equal(injected, server.DroppedDatagrams);
    }

    [Fact]
    public async Task Records_from_an_unknown_epoch_are_ignored_by_openssl()
    {
        var (link, server, client) = Pair();
        link.ClientToServerFilter = (_, datagram) =>
        {
            var otherEpoch = (byte[])datagram.Clone();
            otherEpoch[3] = 0x77;
            server.OnDatagram(otherEpoch);
            return true;
        };

        var keys = await Task.WhenAll(server.HandshakeAsync(), client.HandshakeAsync()).WaitAsync(TestTimeout);

        Assert.Equal(keys[0].LocalMasterKey, keys[1].RemoteMasterKey);
    }

    [Fact]
    public async Task Lost_flights_in_both_directions_are_retransmitted_and_the_handshake_completes()
    {
        var (link, server, client) = Pair();
        var droppedToServer = 0;
        var droppedToClient = 0;
        // Lose the client's first ClientHello, the server's first flight, the client's first Finished flight (its
        // ChangeCipherSpec datagram) and the server's first ChangeCipherSpec: every step needs a retransmission.
        link.ClientToServerFilter = (index, datagram) =>
            !(index == 0 || datagram[0] == DtlsRecordHeader.ChangeCipherSpec && Interlocked.Exchange(ref droppedToServer, 1) == 0);
        link.ServerToClientFilter = (index, datagram) =>
            !(index == 0 || datagram[0] == DtlsRecordHeader.ChangeCipherSpec && Interlocked.Exchange(ref droppedToClient, 1) == 0);

        var keys = await Task.WhenAll(server.HandshakeAsync(), client.HandshakeAsync()).WaitAsync(TestTimeout);

        Assert.Equal(keys[0].LocalMasterKey, keys[1].RemoteMasterKey);
        Assert.Equal(keys[1].LocalMasterKey, keys[0].RemoteMasterKey);
        Assert.Equal(1, droppedToServer);
        Assert.Equal(1, droppedToClient);
    }

    [Fact]
    public async Task Server_datagrams_never_exceed_the_mtu_and_carry_whole_records()
    {
        var recorder = new RecordingSender();
        var (link, server, client) = Pair(serverOptions: OpenSsl with { MaxDatagramSize = 400 }, serverSender: recorder);
        recorder.Inner = link.ServerSender;

        var keys = await Task.WhenAll(server.HandshakeAsync(), client.HandshakeAsync()).WaitAsync(TestTimeout);

        Assert.Equal(keys[0].LocalMasterKey, keys[1].RemoteMasterKey);
        Assert.NotEmpty(recorder.Datagrams);
        Assert.All(recorder.Datagrams, datagram =>
        {
            Assert.True(datagram.Length <= 400, $"datagram of {datagram.Length} bytes");
            Assert.True(DtlsRecordHeader.IsWellFormedDatagram(datagram));
        });
        // The certificate flight needs more than one 400-byte datagram; some datagram packs several records.
        Assert.Contains(recorder.Datagrams, datagram =>
            DtlsRecordHeader.TryParse(datagram, out var first) && DtlsRecordHeader.Size + first.Length < datagram.Length);
    }

    [Fact]
    public async Task Two_hundred_concurrent_handshakes_all_complete_on_at_most_a_worker_per_core()
    {
        const int count = 200;
        var workers = new DtlsHandshakeWorkers(Environment.ProcessorCount);
        var serverOptions = OpenSsl with { OpenSslWorkers = workers, HandshakeTimeout = TimeSpan.FromSeconds(120) };
        // The BouncyCastle clients block a thread each while they run, so they get a bounded set of their own.
        var clientOptions = new DtlsTransportOptions { ClientWorkers = new DtlsHandshakeWorkers(16), HandshakeTimeout = TimeSpan.FromSeconds(120) };
        var serverThreads = new ConcurrentDictionary<int, bool>();
        var pairs = new List<(DtlsTransport Server, DtlsTransport Client)>();
        for (var i = 0; i < count; i++)
        {
            var recorder = new RecordingSender { Threads = serverThreads };
            var (link, server, client) = Pair(serverOptions: serverOptions, clientOptions: clientOptions, serverSender: recorder);
            recorder.Inner = link.ServerSender;
            pairs.Add((server, client));
        }

        var handshakes = pairs.Select(p => Task.WhenAll(p.Server.HandshakeAsync(), p.Client.HandshakeAsync())).ToArray();
        var results = await Task.WhenAll(handshakes).WaitAsync(TimeSpan.FromMinutes(4));

        Assert.All(results, keys => Assert.Equal(keys[0].LocalMasterKey, keys[1].RemoteMasterKey));
        Assert.All(pairs, p => Assert.Equal(DtlsTransportState.Connected, p.Server.State));
        // Every server datagram left from a thread running OpenSSL for the server: no more of them than workers.
        Assert.InRange(serverThreads.Count, 1, Environment.ProcessorCount);
        Assert.InRange(workers.Threads, 1, Environment.ProcessorCount);
        foreach (var (server, client) in pairs)
        {
            server.Dispose();
            client.Dispose();
        }
    }

    private sealed class RecordingSender : IDatagramSender
    {
        public IDatagramSender? Inner { get; set; }

        public ConcurrentDictionary<int, bool>? Threads { get; init; }

        public ConcurrentQueue<byte[]> Datagrams { get; } = new();

        public void Send(ReadOnlySpan<byte> datagram)
        {
            Threads?.TryAdd(Environment.CurrentManagedThreadId, true);
            if (Threads is null)
            {
                Datagrams.Enqueue(datagram.ToArray());
            }

            Inner?.Send(datagram);
        }
    }
}
