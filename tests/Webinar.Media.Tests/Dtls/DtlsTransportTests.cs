using Webinar.Media.Dtls;

namespace Webinar.Media.Tests.Dtls;

public sealed class DtlsTransportTests
{
    // Generating a P-256 key is cheap, but one pair per class keeps the tests quick.
    private static readonly DtlsCertificate ServerCertificate = DtlsCertificate.Generate();
    private static readonly DtlsCertificate ClientCertificate = DtlsCertificate.Generate();
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(20);

    private static (InMemoryDatagramLink Link, DtlsTransport Server, DtlsTransport Client) Pair(
        DtlsTransportOptions? serverOptions = null,
        DtlsTransportOptions? clientOptions = null,
        DtlsFingerprint? serverExpects = null,
        DtlsFingerprint? clientExpects = null)
    {
        var link = new InMemoryDatagramLink();
        var server = new DtlsTransport(DtlsRole.Server, ServerCertificate, serverExpects ?? ClientCertificate.Fingerprint, link.ServerSender, serverOptions);
        var client = new DtlsTransport(DtlsRole.Client, ClientCertificate, clientExpects ?? ServerCertificate.Fingerprint, link.ClientSender, clientOptions);
        link.Server = server;
        link.Client = client;
        return (link, server, client);
    }

    private static void AssertCrosswise(DtlsSrtpKeys server, DtlsSrtpKeys client, ushort profile, int saltLength)
    {
        Assert.Equal(profile, server.ProtectionProfile);
        Assert.Equal(profile, client.ProtectionProfile);
        Assert.Equal(16, server.LocalMasterKey.Length);
        Assert.Equal(saltLength, server.LocalMasterSalt.Length);
        Assert.Equal(server.LocalMasterKey, client.RemoteMasterKey);
        Assert.Equal(server.LocalMasterSalt, client.RemoteMasterSalt);
        Assert.Equal(client.LocalMasterKey, server.RemoteMasterKey);
        Assert.Equal(client.LocalMasterSalt, server.RemoteMasterSalt);
        Assert.NotEqual(server.LocalMasterKey, server.RemoteMasterKey);
        Assert.NotEqual(server.LocalMasterSalt, server.RemoteMasterSalt);
    }

    [Fact]
    public async Task Client_and_server_agree_on_aead_aes_128_gcm_keys_crosswise()
    {
        var (_, server, client) = Pair();
        var serverKeys = server.HandshakeAsync();
        var clientKeys = client.HandshakeAsync();

        var keys = await Task.WhenAll(serverKeys, clientKeys).WaitAsync(TestTimeout);

        AssertCrosswise(keys[0], keys[1], SrtpProfiles.AeadAes128Gcm, 12);
        Assert.Equal(DtlsTransportState.Connected, server.State);
        Assert.Equal(DtlsTransportState.Connected, client.State);
    }

    [Fact]
    public async Task Client_and_server_agree_on_aes_cm_hmac_sha1_80_keys_crosswise()
    {
        var only80 = new DtlsTransportOptions { SrtpProfiles = [SrtpProfiles.Aes128CmHmacSha1_80] };
        var (_, server, client) = Pair(clientOptions: only80);

        var keys = await Task.WhenAll(server.HandshakeAsync(), client.HandshakeAsync()).WaitAsync(TestTimeout);

        AssertCrosswise(keys[0], keys[1], SrtpProfiles.Aes128CmHmacSha1_80, 14);
    }

    [Fact]
    public async Task Server_prefers_gcm_even_when_the_client_lists_it_last()
    {
        var reversed = new DtlsTransportOptions { SrtpProfiles = [SrtpProfiles.Aes128CmHmacSha1_80, SrtpProfiles.AeadAes128Gcm] };
        var (_, server, client) = Pair(clientOptions: reversed);

        var keys = await Task.WhenAll(server.HandshakeAsync(), client.HandshakeAsync()).WaitAsync(TestTimeout);

        Assert.Equal(SrtpProfiles.AeadAes128Gcm, keys[0].ProtectionProfile);
        Assert.Equal(SrtpProfiles.AeadAes128Gcm, keys[1].ProtectionProfile);
    }

    [Fact]
    public async Task Each_handshake_exports_fresh_keys()
    {
        var (_, server1, client1) = Pair();
        var (_, server2, client2) = Pair();

        var first = await Task.WhenAll(server1.HandshakeAsync(), client1.HandshakeAsync()).WaitAsync(TestTimeout);
        var second = await Task.WhenAll(server2.HandshakeAsync(), client2.HandshakeAsync()).WaitAsync(TestTimeout);

        Assert.NotEqual(first[0].LocalMasterKey, second[0].LocalMasterKey);
    }

    [Fact]
    public async Task Server_rejects_a_client_certificate_that_does_not_match_the_sdp_fingerprint()
    {
        var stranger = DtlsCertificate.Generate().Fingerprint;
        var (_, server, client) = Pair(serverExpects: stranger);

        var serverTask = server.HandshakeAsync();
        var clientTask = client.HandshakeAsync();

        var serverError = await Assert.ThrowsAsync<DtlsHandshakeException>(() => serverTask.WaitAsync(TestTimeout));
        Assert.Equal(DtlsError.FingerprintMismatch, serverError.Error);
        Assert.Contains(stranger.ToString(), serverError.Message, StringComparison.Ordinal);
        var clientError = await Assert.ThrowsAsync<DtlsHandshakeException>(() => clientTask.WaitAsync(TestTimeout));
        Assert.Equal(DtlsError.PeerAlert, clientError.Error);
        Assert.Equal(DtlsTransportState.Failed, server.State);
        Assert.Equal(DtlsError.FingerprintMismatch, await server.Closed.WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task Client_rejects_a_server_certificate_that_does_not_match_the_sdp_fingerprint()
    {
        var (_, server, client) = Pair(clientExpects: DtlsCertificate.Generate().Fingerprint);

        var serverTask = server.HandshakeAsync();
        var clientTask = client.HandshakeAsync();

        var clientError = await Assert.ThrowsAsync<DtlsHandshakeException>(() => clientTask.WaitAsync(TestTimeout));
        Assert.Equal(DtlsError.FingerprintMismatch, clientError.Error);
        var serverError = await Assert.ThrowsAsync<DtlsHandshakeException>(() => serverTask.WaitAsync(TestTimeout));
        Assert.Equal(DtlsError.PeerAlert, serverError.Error);
    }

    [Fact]
    public async Task Handshake_fails_cleanly_when_no_srtp_profile_is_shared()
    {
        var (_, server, client) = Pair(
            serverOptions: new DtlsTransportOptions { SrtpProfiles = [SrtpProfiles.AeadAes128Gcm] },
            clientOptions: new DtlsTransportOptions { SrtpProfiles = [SrtpProfiles.Aes128CmHmacSha1_80] });

        var serverTask = server.HandshakeAsync();
        var clientTask = client.HandshakeAsync();

        var serverError = await Assert.ThrowsAsync<DtlsHandshakeException>(() => serverTask.WaitAsync(TestTimeout));
        Assert.Equal(DtlsError.NoCommonSrtpProfile, serverError.Error);
        var clientError = await Assert.ThrowsAsync<DtlsHandshakeException>(() => clientTask.WaitAsync(TestTimeout));
        Assert.Equal(DtlsError.PeerAlert, clientError.Error);
    }

    [Theory]
    [InlineData(DtlsRole.Server)]
    [InlineData(DtlsRole.Client)]
    public async Task A_peer_that_never_answers_times_out_cleanly(DtlsRole role)
    {
        var silent = new BlackHoleSender();
        var options = new DtlsTransportOptions { HandshakeTimeout = TimeSpan.FromMilliseconds(1500) };
        using var transport = new DtlsTransport(role, ServerCertificate, ClientCertificate.Fingerprint, silent, options);

        var error = await Assert.ThrowsAsync<DtlsHandshakeException>(() => transport.HandshakeAsync().WaitAsync(TestTimeout));

        Assert.Equal(DtlsError.Timeout, error.Error);
        Assert.Equal(DtlsTransportState.Failed, transport.State);
        Assert.Equal(DtlsError.Timeout, await transport.Closed.WaitAsync(TestTimeout));
        if (role == DtlsRole.Client)
        {
            Assert.True(silent.Sent >= 2, "the client should have retransmitted its ClientHello");
        }
    }

    [Fact]
    public async Task Cancelling_the_handshake_ends_it_with_operation_cancelled()
    {
        using var cts = new CancellationTokenSource();
        using var transport = new DtlsTransport(DtlsRole.Server, ServerCertificate, ClientCertificate.Fingerprint, new BlackHoleSender());
        var handshake = transport.HandshakeAsync(cts.Token);

        await cts.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => handshake.WaitAsync(TestTimeout));
        Assert.Equal(DtlsError.Cancelled, await transport.Closed.WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task Closing_during_the_handshake_ends_it_at_once()
    {
        var transport = new DtlsTransport(DtlsRole.Server, ServerCertificate, ClientCertificate.Fingerprint, new BlackHoleSender());
        var handshake = transport.HandshakeAsync();

        transport.Close();

        var error = await Assert.ThrowsAsync<DtlsHandshakeException>(() => handshake.WaitAsync(TestTimeout));
        Assert.Equal(DtlsError.LocallyClosed, error.Error);
    }

    [Fact]
    public async Task Garbage_datagrams_during_the_handshake_do_not_stop_it()
    {
        var (link, server, client) = Pair();
        var random = new Random(5764);
        Func<int, byte[], bool> InjectNoise(Func<DtlsTransport> target) => (_, datagram) =>
        {
            // Before every real datagram: random bytes, random bytes behind a DTLS-looking first byte, a truncated copy
            // (never a whole record), a lone header claiming more bytes than follow, and a copy moved to a future epoch.
            var victim = target();
            var noise = new byte[random.Next(1, 300)];
            random.NextBytes(noise);
            victim.OnDatagram(noise);
            noise[0] = (byte)random.Next(20, 24);
            victim.OnDatagram(noise);
            victim.OnDatagram(datagram.AsSpan(0, random.Next(0, DtlsRecordHeader.Size + 1)));
            victim.OnDatagram([22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 9, 0xFF, 0xFF]);
            var otherEpoch = (byte[])datagram.Clone();
            otherEpoch[3] = 0x77;
            victim.OnDatagram(otherEpoch);
            return true;
        };

        link.ClientToServerFilter = InjectNoise(() => server);
        link.ServerToClientFilter = InjectNoise(() => client);

        var keys = await Task.WhenAll(server.HandshakeAsync(), client.HandshakeAsync()).WaitAsync(TestTimeout);

        AssertCrosswise(keys[0], keys[1], SrtpProfiles.AeadAes128Gcm, 12);
    }

    [Fact]
    public async Task Forged_handshake_records_end_the_handshake_only_with_a_clean_result()
    {
        // A well-formed record with corrupted contents, injected ahead of the real one, can poison an unauthenticated
        // DTLS 1.2 handshake; what matters is that it ends with keys or a DtlsHandshakeException, within the timeout.
        var options = new DtlsTransportOptions { HandshakeTimeout = TimeSpan.FromSeconds(3) };
        for (var seed = 0; seed < 4; seed++)
        {
            var (link, server, client) = Pair(serverOptions: options, clientOptions: options);
            var random = new Random(seed);
            link.ClientToServerFilter = (_, datagram) =>
            {
                var forged = (byte[])datagram.Clone();
                forged[random.Next(DtlsRecordHeader.Size, forged.Length)] ^= (byte)random.Next(1, 256);
                server.OnDatagram(forged);
                return true;
            };

            foreach (var handshake in new[] { server.HandshakeAsync(), client.HandshakeAsync() })
            {
                try
                {
                    await handshake.WaitAsync(TestTimeout);
                }
                catch (DtlsHandshakeException exception)
                {
                    Assert.NotEqual(DtlsError.None, exception.Error);
                }
            }
        }
    }

    [Fact]
    public async Task A_lost_server_final_flight_is_retransmitted_after_the_server_is_connected()
    {
        var (link, server, client) = Pair();
        var droppedOnce = 0;
        link.ServerToClientFilter = (_, datagram) =>
        {
            // Drop the first datagram of the server's last flight (ChangeCipherSpec, content type 20).
            return !(datagram[0] == DtlsRecordHeader.ChangeCipherSpec && Interlocked.Exchange(ref droppedOnce, 1) == 0);
        };

        var keys = await Task.WhenAll(server.HandshakeAsync(), client.HandshakeAsync()).WaitAsync(TestTimeout);

        Assert.Equal(1, droppedOnce);
        AssertCrosswise(keys[0], keys[1], SrtpProfiles.AeadAes128Gcm, 12);
    }

    [Fact]
    public async Task Close_notify_from_the_client_ends_the_server_association()
    {
        var (_, server, client) = Pair();
        await Task.WhenAll(server.HandshakeAsync(), client.HandshakeAsync()).WaitAsync(TestTimeout);

        client.Close();

        Assert.Equal(DtlsError.LocallyClosed, await client.Closed.WaitAsync(TestTimeout));
        Assert.Equal(DtlsError.PeerClosed, await server.Closed.WaitAsync(TestTimeout));
        Assert.Equal(DtlsTransportState.Closed, server.State);
    }

    [Fact]
    public async Task Close_notify_from_the_server_ends_the_client_association()
    {
        var (_, server, client) = Pair();
        await Task.WhenAll(server.HandshakeAsync(), client.HandshakeAsync()).WaitAsync(TestTimeout);

        server.Close();

        Assert.Equal(DtlsError.LocallyClosed, await server.Closed.WaitAsync(TestTimeout));
        Assert.Equal(DtlsError.PeerClosed, await client.Closed.WaitAsync(TestTimeout));
    }

    [Fact]
    public async Task More_bouncycastle_server_handshakes_than_workers_queue_and_all_complete()
    {
        var workers = new DtlsHandshakeWorkers(maxThreads: 2);
        var options = new DtlsTransportOptions { ServerWorkers = workers, ServerEngine = DtlsEngine.BouncyCastle };
        var pairs = Enumerable.Range(0, 6).Select(_ => Pair(serverOptions: options)).ToArray();

        var handshakes = pairs.Select(p => Task.WhenAll(p.Server.HandshakeAsync(), p.Client.HandshakeAsync())).ToArray();
        var results = await Task.WhenAll(handshakes).WaitAsync(TestTimeout);

        Assert.All(results, keys => AssertCrosswise(keys[0], keys[1], SrtpProfiles.AeadAes128Gcm, 12));
        Assert.Equal(2, workers.Threads);
        Assert.Equal(6, workers.Completed);
    }

    [Fact]
    public async Task A_bouncycastle_server_waiting_for_its_client_hello_holds_no_worker()
    {
        var workers = new DtlsHandshakeWorkers(maxThreads: 1);
        var options = new DtlsTransportOptions { ServerWorkers = workers, ServerEngine = DtlsEngine.BouncyCastle, HandshakeTimeout = TimeSpan.FromSeconds(15) };
        using var silent = new DtlsTransport(DtlsRole.Server, ServerCertificate, ClientCertificate.Fingerprint, new BlackHoleSender(), options);
        var waiting = silent.HandshakeAsync();

        var (_, server, client) = Pair(serverOptions: options);
        var keys = await Task.WhenAll(server.HandshakeAsync(), client.HandshakeAsync()).WaitAsync(TestTimeout);

        AssertCrosswise(keys[0], keys[1], SrtpProfiles.AeadAes128Gcm, 12);
        Assert.False(waiting.IsCompleted);
        silent.Close();
        var error = await Assert.ThrowsAsync<DtlsHandshakeException>(() => waiting.WaitAsync(TestTimeout));
        Assert.Equal(DtlsError.LocallyClosed, error.Error);
    }

    [Fact]
    public async Task Handshake_can_only_be_started_once()
    {
        using var transport = new DtlsTransport(DtlsRole.Server, ServerCertificate, ClientCertificate.Fingerprint, new BlackHoleSender());
        var first = transport.HandshakeAsync();

        await Assert.ThrowsAsync<InvalidOperationException>(() => transport.HandshakeAsync());

        transport.Close();
        await Assert.ThrowsAsync<DtlsHandshakeException>(() => first.WaitAsync(TestTimeout));
    }
}
