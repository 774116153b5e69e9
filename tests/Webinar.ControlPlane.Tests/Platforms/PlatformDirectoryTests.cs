using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Webinar.ControlPlane.Hosting;
using Webinar.ControlPlane.Platforms;

namespace Webinar.ControlPlane.Tests.Platforms;

public sealed class PlatformDirectoryTests
{
    [Fact]
    public void Each_key_authenticates_as_its_own_platform_and_unknown_keys_as_none()
    {
        var directory = Create("dev-key", [Entry("acme", "whsec-acme-0123456789", "acme-key-1", "acme-key-2")]);

        Assert.Equal("default", directory.Authenticate("dev-key")?.Id);
        Assert.Equal("acme", directory.Authenticate("acme-key-1")?.Id);
        Assert.Equal("acme", directory.Authenticate("acme-key-2")?.Id);
        Assert.Null(directory.Authenticate("acme-key-3"));
        Assert.Equal("whsec-acme-0123456789", directory.Find("acme")?.WebhookSecret);
    }

    [Fact]
    public void The_development_platform_never_signs_webhooks_with_its_api_key()
    {
        var directory = Create("dev-key", [], signingSecret: null);

        var secret = directory.Find("default")!.WebhookSecret;

        Assert.NotEqual("dev-key", secret);
        Assert.True(secret.Length >= 16);
    }

    [Fact]
    public void A_webhook_secret_that_is_an_api_key_stops_the_start()
    {
        var e = Assert.Throws<OptionsValidationException>(() => Create("dev-key", [Entry("acme", "acme-key-0123456789", "acme-key-0123456789")]));
        Assert.Contains("never be API keys", e.Message, StringComparison.Ordinal);
        Assert.Throws<OptionsValidationException>(() => Create("dev-key-0123456789", [], signingSecret: "dev-key-0123456789"));
    }

    [Fact]
    public void A_key_of_two_platforms_or_a_duplicate_id_stops_the_start()
    {
        Assert.Throws<OptionsValidationException>(() => Create("dev-key", [Entry("acme", "whsec-acme-0123456789", "dev-key")]));
        Assert.Throws<OptionsValidationException>(() => Create(null, [Entry("acme", "whsec-acme-0123456789", "k1"), Entry("acme", "whsec-acme-9876543210", "k2")]));
        Assert.Throws<OptionsValidationException>(() => Create(null, [Entry("acme", null, "k1")]));
    }

    private static PlatformEntry Entry(string id, string? secret, params string[] keys) => new() { Id = id, WebhookSecret = secret, ApiKeys = [.. keys] };

    private static PlatformDirectory Create(string? devKey, List<PlatformEntry> platforms, string? signingSecret = "whsec-development-0123") =>
        new(
            Options.Create(new ApiKeyOptions { DevelopmentKey = devKey }),
            Options.Create(new PlatformOptions { Platforms = platforms }),
            Options.Create(new WebhookOptions { SigningSecret = signingSecret }),
            NullLogger<PlatformDirectory>.Instance);
}
