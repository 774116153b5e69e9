using MassTransit;
using Webinar.Contracts.Archives;
using Webinar.Contracts.Meetings;

namespace Webinar.ControlPlane.Tests.Infrastructure;

/// <summary>
/// A test's own bus on the fixture's virtual host: it receives every event the control plane publishes (on a
/// durable queue of its own, so events published while it reconnects wait for it) and publishes what SFU nodes
/// would (heartbeats, AttendeeJoined/Left).
/// </summary>
internal sealed class EventObserver : IAsyncDisposable
{
    private readonly List<object> _received = [];
    private readonly IBusControl _bus;

    private EventObserver(IBusControl bus) => _bus = bus;

    public IBus Bus => _bus;

    public static async Task<EventObserver> StartAsync(int port, string virtualHost)
    {
        EventObserver? observer = null;
        var bus = MassTransit.Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host("127.0.0.1", (ushort)port, virtualHost, h =>
            {
                h.Username("guest");
                h.Password("guest");
            });
            cfg.ReceiveEndpoint("test-observer", e =>
            {
                e.Handler<MeetingCreated>(c => observer!.Add(c.Message));
                e.Handler<ReplicaCreated>(c => observer!.Add(c.Message));
                e.Handler<MeetingDeleted>(c => observer!.Add(c.Message));
                e.Handler<AttendeeCreated>(c => observer!.Add(c.Message));
                e.Handler<AttendeeDeleted>(c => observer!.Add(c.Message));
                e.Handler<ArchiveStarted>(c => observer!.Add(c.Message));
                e.Handler<ArchiveStopped>(c => observer!.Add(c.Message));
            });
        });
        observer = new EventObserver(bus);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await bus.StartAsync(timeout.Token);
        return observer;
    }

    public IReadOnlyList<T> All<T>(Func<T, bool>? predicate = null)
    {
        lock (_received)
        {
            return _received.OfType<T>().Where(m => predicate?.Invoke(m) ?? true).ToList();
        }
    }

    public async Task<T> WaitForAsync<T>(Func<T, bool> predicate, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (DateTime.UtcNow < deadline)
        {
            var found = All(predicate);
            if (found.Count > 0)
            {
                return found[0];
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No {typeof(T).Name} matching the condition was published within the timeout.");
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await _bus.StopAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            // The broker is gone; nothing left to stop cleanly.
        }
    }

    private Task Add(object message)
    {
        lock (_received)
        {
            _received.Add(message);
        }

        return Task.CompletedTask;
    }
}
