namespace Webinar.Sfu.Relay;

/// <summary>The relay's timings, bound from <c>Sfu:Relay</c>; tests shorten them instead of waiting.</summary>
internal sealed class RelayOptions
{
    public const string Section = "Sfu:Relay";

    /// <summary>How often the replica's node re-opens lost links and re-subscribes (sooner when something changes).</summary>
    public TimeSpan ReconcileInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>A subscription older than this is asked again (the answer reconciles streams and presence).</summary>
    public TimeSpan SubscriptionRefreshInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a request to another node (open a link, subscribe, admit a promotion) waits for its answer.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>A link whose peer sent nothing (RTP, RTCP) for this long is closed; the reconcile pass re-opens it.</summary>
    public TimeSpan LinkSilenceTimeout { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>How often a link sends an empty receiver report, so the peer's silence timer stays quiet without media.</summary>
    public TimeSpan LinkKeepaliveInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one send of a message to another node may take before it is retried.</summary>
    public TimeSpan SendTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The first wait before a failed send is retried; it doubles up to <see cref="SendRetryMaxDelay"/>.</summary>
    public TimeSpan SendRetryDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    public TimeSpan SendRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A message not sent after this long is dropped; the next subscription refresh repairs what it carried.</summary>
    public TimeSpan SendGiveUp { get; set; } = TimeSpan.FromSeconds(60);
}
