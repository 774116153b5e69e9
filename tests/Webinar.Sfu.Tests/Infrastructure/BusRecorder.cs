using System.Collections.Concurrent;
using MassTransit;

namespace Webinar.Sfu.Tests.Infrastructure;

/// <summary>Every message of the watched types seen on the fixture's vhost.</summary>
internal sealed class BusRecorder
{
    private readonly ConcurrentQueue<object> _messages = new();

    public void Add(object message) => _messages.Enqueue(message);

    public async Task<T> WaitForAsync<T>(Func<T, bool> match, TimeSpan? wait = null)
    {
        var deadline = DateTime.UtcNow + (wait ?? TimeSpan.FromSeconds(15));
        while (DateTime.UtcNow < deadline)
        {
            foreach (var m in _messages)
            {
                if (m is T t && match(t))
                {
                    return t;
                }
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"No matching {typeof(T).Name} on the bus.");
    }
}

internal sealed class RecordingConsumer<T>(BusRecorder recorder) : IConsumer<T>
    where T : class
{
    public Task Consume(ConsumeContext<T> context)
    {
        recorder.Add(context.Message);
        return Task.CompletedTask;
    }
}
