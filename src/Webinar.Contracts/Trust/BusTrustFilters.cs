using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MassTransit;
using Microsoft.Extensions.Logging;

namespace Webinar.Contracts.Trust;

/// <summary>A received message that failed authentication; never retried, so it goes straight to the <c>_error</c> queue.</summary>
public sealed class MessageRefusedException(MessageRefusal refusal, string message) : Exception(message)
{
    public MessageRefusal Refusal { get; } = refusal;
}

/// <summary>
/// Signs and verifies bus messages for one component (<see cref="BusKeys.Principal"/>). Verification order: signed at
/// all, fresh (<see cref="BusTrustOptions.MaxMessageAge"/>), sender known, signature valid, sender allowed to say it
/// (<see cref="BusPrincipals.Refusal"/>), not seen before. Refusals are counted (<c>webinar.bus.messages_refused</c>,
/// tagged by reason) and logged.
/// </summary>
public sealed partial class BusTrust
{
    public static readonly Meter Meter = new("Webinar.Bus.Trust");
    private static readonly Counter<long> Refused = Meter.CreateCounter<long>("webinar.bus.messages_refused", description: "Bus messages refused by authentication");

    private readonly BusKeys _keys;
    private readonly BusTrustOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<BusTrust> _logger;
    private readonly ConcurrentDictionary<string, long> _seen = new(StringComparer.Ordinal);
    private readonly long[] _refusedCounts = new long[Enum.GetValues<MessageRefusal>().Length];

    public BusTrust(BusKeys keys, BusTrustOptions options, TimeProvider time, ILogger<BusTrust> logger)
    {
        _keys = keys;
        _options = options;
        _time = time;
        _logger = logger;
        if (!keys.Enabled)
        {
            LogUnauthenticated(_logger, keys.Principal);
        }
    }

    public BusKeys Keys => _keys;

    /// <summary>How many messages were refused for <paramref name="refusal"/> since start.</summary>
    public long RefusedCount(MessageRefusal refusal) => Interlocked.Read(ref _refusedCounts[(int)refusal]);

    public void Sign<T>(SendContext<T> context)
        where T : class
    {
        if (_keys.SigningKey is not { } key)
        {
            return;
        }

        context.MessageId ??= NewId.NextGuid();
        var signedAt = _time.GetUtcNow().ToUnixTimeMilliseconds();
        context.Headers.Set(MessageSignature.SenderHeader, _keys.Principal);
        context.Headers.Set(MessageSignature.SignedAtHeader, signedAt.ToString(System.Globalization.CultureInfo.InvariantCulture));
        context.Headers.Set(MessageSignature.SignatureHeader, MessageSignature.Sign(key, context.Message, context.MessageId.Value, _keys.Principal, signedAt));
    }

    /// <summary>Checks <paramref name="context"/>; returns the replay-cache entry to release if the consumer fails, or throws <see cref="MessageRefusedException"/>.</summary>
    public string? Verify<T>(ConsumeContext<T> context)
        where T : class
    {
        if (!_keys.Enabled)
        {
            return null;
        }

        var sender = context.Headers.Get<string>(MessageSignature.SenderHeader);
        var signature = context.Headers.Get<string>(MessageSignature.SignatureHeader);
        long? signedAt = long.TryParse(context.Headers.Get<string>(MessageSignature.SignedAtHeader), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var at) ? at : null;
        if (string.IsNullOrEmpty(sender) || string.IsNullOrEmpty(signature) || signedAt is null || context.MessageId is not { } messageId)
        {
            throw Refuse(MessageRefusal.Unsigned, typeof(T), sender, "the message carries no signature");
        }

        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        if (Math.Abs(now - signedAt.Value) > (long)_options.MaxMessageAge.TotalMilliseconds)
        {
            throw Refuse(MessageRefusal.Stale, typeof(T), sender, "the signature is older than Trust:MaxMessageAge (or from the future)");
        }

        if (_keys.PublicKey(sender) is not { } key)
        {
            throw Refuse(MessageRefusal.UnknownSender, typeof(T), sender, "no public key is known for the sender");
        }

        if (!MessageSignature.Verify(key, context.Message, messageId, sender, signedAt.Value, signature))
        {
            throw Refuse(MessageRefusal.BadSignature, typeof(T), sender, "the signature does not verify");
        }

        if (BusPrincipals.Refusal(context.Message, sender) is { } wrong)
        {
            throw Refuse(MessageRefusal.WrongSender, typeof(T), sender, wrong);
        }

        // Keyed by sender and message id (both signed), not by the signature: ECDSA signatures are malleable, so a
        // replayed message could carry a different but valid one.
        var entry = sender + "/" + messageId.ToString("N");
        if (!_seen.TryAdd(entry, signedAt.Value))
        {
            throw Refuse(MessageRefusal.Replayed, typeof(T), sender, "a message with this id was already received from this sender");
        }

        Prune(now);
        return entry;
    }

    /// <summary>The consumer failed: the message may come again (retry, redelivery) without counting as a replay.</summary>
    public void Release(string entry) => _seen.TryRemove(entry, out _);

    private void Prune(long now)
    {
        if (_seen.Count <= _options.ReplayCacheSize)
        {
            return;
        }

        var horizon = now - (long)_options.MaxMessageAge.TotalMilliseconds;
        foreach (var (entry, at) in _seen)
        {
            if (at < horizon)
            {
                _seen.TryRemove(entry, out _);
            }
        }

        if (_seen.Count > _options.ReplayCacheSize)
        {
            // Still full of fresh entries (a flood): drop the oldest half rather than grow without bound.
            var cut = _seen.Values.Order().ElementAt(_seen.Count / 2);
            foreach (var (entry, at) in _seen)
            {
                if (at <= cut)
                {
                    _seen.TryRemove(entry, out _);
                }
            }
        }
    }

    private MessageRefusedException Refuse(MessageRefusal refusal, Type type, string? sender, string why)
    {
        Interlocked.Increment(ref _refusedCounts[(int)refusal]);
        Refused.Add(1, new KeyValuePair<string, object?>("reason", refusal.ToString()));
        LogRefused(_logger, type.Name, sender ?? "(none)", refusal, why);
        return new MessageRefusedException(refusal, $"{type.Name} from '{sender}' refused ({refusal}): {why}.");
    }

    [LoggerMessage(EventIds.BusMessageRefused, LogLevel.Warning, "Bus message {MessageType} from {Sender} refused: {Refusal} ({Why}); moved to the error queue")]
    private static partial void LogRefused(ILogger logger, string messageType, string sender, MessageRefusal refusal, string why);

    [LoggerMessage(EventIds.BusTrustNotConfigured, LogLevel.Warning, "Bus trust is not configured (Trust:KeysDirectory / WEBINAR_TRUST_KEYS_DIR): {Principal} neither signs nor verifies bus messages, so any broker client can speak for any component. Development only.")]
    private static partial void LogUnauthenticated(ILogger logger, string principal);
}

/// <summary>Signs every message this component sends (requests, responses, sends).</summary>
public sealed class SignSendFilter<T>(BusTrust trust) : IFilter<SendContext<T>>
    where T : class
{
    public Task Send(SendContext<T> context, IPipe<SendContext<T>> next)
    {
        trust.Sign(context);
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("webinar-sign");
}

/// <summary>Signs every message this component publishes.</summary>
public sealed class SignPublishFilter<T>(BusTrust trust) : IFilter<PublishContext<T>>
    where T : class
{
    public Task Send(PublishContext<T> context, IPipe<PublishContext<T>> next)
    {
        trust.Sign(context);
        return next.Send(context);
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("webinar-sign");
}

/// <summary>Verifies every message before its consumer sees it; a refusal throws <see cref="MessageRefusedException"/>.</summary>
public sealed class VerifyConsumeFilter<T>(BusTrust trust) : IFilter<ConsumeContext<T>>
    where T : class
{
    public async Task Send(ConsumeContext<T> context, IPipe<ConsumeContext<T>> next)
    {
        var entry = trust.Verify(context);
        try
        {
            await next.Send(context).ConfigureAwait(false);
        }
        catch when (entry is not null)
        {
            trust.Release(entry);
            throw;
        }
    }

    public void Probe(ProbeContext context) => context.CreateFilterScope("webinar-verify");
}
