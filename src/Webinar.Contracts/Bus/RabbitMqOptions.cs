namespace Webinar.Contracts.Bus;

/// <summary>The broker the control plane and every node connect to, bound from the <c>RabbitMq</c> configuration section.</summary>
public sealed class RabbitMqOptions
{
    public const string Section = "RabbitMq";

    public string Host { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 25672;

    public string VirtualHost { get; set; } = "/";

    public string Username { get; set; } = "guest";

    public string Password { get; set; } = "guest";

    /// <summary>
    /// A node: block host start until the broker is connected (tests); a node normally starts without it. The control
    /// plane always waits (it cannot serve without the bus) and does not read this.
    /// </summary>
    public bool WaitUntilStarted { get; set; }
}
