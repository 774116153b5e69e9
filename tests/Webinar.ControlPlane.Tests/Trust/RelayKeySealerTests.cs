using Webinar.Contracts.Relay;
using Webinar.Contracts.Trust;

namespace Webinar.ControlPlane.Tests.Trust;

public sealed class RelayKeySealerTests : IDisposable
{
    private readonly TrustKeys _keys = new("node-a", "node-b", "node-c");

    [Fact]
    public void Keys_sealed_to_a_node_open_there_and_nowhere_else()
    {
        var key = Enumerable.Range(1, 16).Select(i => (byte)i).ToArray();
        var salt = Enumerable.Range(100, 12).Select(i => (byte)i).ToArray();
        var sealedKeys = Sealer("node-a").Seal("node-b", 7, key, salt);

        Assert.True(Sealer("node-b").TryOpen("node-a", sealedKeys, 16, 12, out var openedKey, out var openedSalt));
        Assert.Equal(key, openedKey);
        Assert.Equal(salt, openedSalt);
        Assert.False(Sealer("node-c").TryOpen("node-a", sealedKeys, 16, 12, out _, out _));
        Assert.False(Sealer("node-b").TryOpen("node-c", sealedKeys, 16, 12, out _, out _));
        Assert.False(Sealer("node-b").TryOpen("node-a", sealedKeys with { SrtpProfile = 1 }, 16, 12, out _, out _));
        Assert.DoesNotContain(Convert.ToHexString(key), Convert.ToHexString(sealedKeys.Sealed), StringComparison.Ordinal);
    }

    [Fact]
    public void Tampered_truncated_or_clear_keys_do_not_open_on_a_trusted_node()
    {
        var sealedKeys = Sealer("node-a").Seal("node-b", 7, new byte[16], new byte[12]);
        var b = Sealer("node-b");

        for (var i = 0; i < sealedKeys.Sealed.Length; i += 7)
        {
            var tampered = (byte[])sealedKeys.Sealed.Clone();
            tampered[i] ^= 0x01;
            Assert.False(b.TryOpen("node-a", sealedKeys with { Sealed = tampered }, 16, 12, out _, out _));
        }

        Assert.False(b.TryOpen("node-a", sealedKeys with { Sealed = sealedKeys.Sealed[..^1] }, 16, 12, out _, out _));
        Assert.False(b.TryOpen("node-a", new RelayKeys(7, [0, .. new byte[28]]), 16, 12, out _, out _));
        Assert.False(b.TryOpen("node-a", new RelayKeys(7, []), 16, 12, out _, out _));
    }

    [Fact]
    public void Without_trust_keys_travel_in_clear_between_untrusted_nodes()
    {
        var open = new RelayKeySealer(new BusKeys("dev-a", new BusTrustOptions(), TimeProvider.System));
        var key = new byte[16];
        key[0] = 42;

        var clear = open.Seal("dev-b", 7, key, new byte[12]);

        Assert.Equal(0, clear.Sealed[0]);
        Assert.True(new RelayKeySealer(new BusKeys("dev-b", new BusTrustOptions(), TimeProvider.System)).TryOpen("dev-a", clear, 16, 12, out var opened, out _));
        Assert.Equal(42, opened[0]);
    }

    public void Dispose() => _keys.Dispose();

    private RelayKeySealer Sealer(string principal) =>
        new(new BusKeys(principal, new BusTrustOptions { KeysDirectory = _keys.Directory }, TimeProvider.System));
}
