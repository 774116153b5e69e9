using System.Data.Common;
using System.Text.Json;
using System.Text.Json.Serialization;
using Dapper;
using Webinar.Contracts.Archives;
using Webinar.Contracts.Meetings;

namespace Webinar.ControlPlane.Outbox;

/// <summary>The integration events the outbox may carry, by the name stored in <c>outbox.message_type</c>.</summary>
internal static class OutboxMessageTypes
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General)
    {
        Converters = { new JsonStringEnumConverter() },
    };

    private static readonly Dictionary<string, Type> ByName = new(StringComparer.Ordinal)
    {
        [nameof(MeetingCreated)] = typeof(MeetingCreated),
        [nameof(ReplicaCreated)] = typeof(ReplicaCreated),
        [nameof(MeetingDeleted)] = typeof(MeetingDeleted),
        [nameof(AttendeeCreated)] = typeof(AttendeeCreated),
        [nameof(AttendeeDeleted)] = typeof(AttendeeDeleted),
        [nameof(ArchiveStarted)] = typeof(ArchiveStarted),
        [nameof(ArchiveStopped)] = typeof(ArchiveStopped),
        [nameof(ArchiveFailed)] = typeof(ArchiveFailed),
    };

    public static bool TryResolve(string name, out Type type) => ByName.TryGetValue(name, out type!);

    public static string NameOf(Type type) =>
        ByName.ContainsKey(type.Name) ? type.Name : throw new ArgumentException($"{type.Name} is not an outbox message type.", nameof(type));
}

/// <summary>Adds events to the outbox inside the caller's transaction, so they commit or roll back with the change.</summary>
internal static class OutboxWriter
{
    public static Task AddAsync<T>(DbConnection connection, DbTransaction tx, T message, DateTimeOffset now, CancellationToken ct)
        where T : class =>
        AddManyAsync(connection, tx, [message], now, ct);

    public static async Task AddManyAsync<T>(DbConnection connection, DbTransaction tx, IReadOnlyList<T> messages, DateTimeOffset now, CancellationToken ct)
        where T : class
    {
        if (messages.Count == 0)
        {
            return;
        }

        var name = OutboxMessageTypes.NameOf(typeof(T));
        var payloads = new string[messages.Count];
        for (var i = 0; i < messages.Count; i++)
        {
            payloads[i] = JsonSerializer.Serialize(messages[i], OutboxMessageTypes.Json);
        }

        await connection.ExecuteAsync(new CommandDefinition(
            """
            INSERT INTO outbox (message_type, payload, created_at)
            SELECT @name, p::jsonb, @now FROM unnest(@payloads) WITH ORDINALITY AS t(p, n) ORDER BY n
            """,
            new { name, payloads, now },
            tx,
            cancellationToken: ct));
    }
}

/// <summary>Wakes the outbox publisher right after a transaction that wrote outbox rows commits.</summary>
internal sealed class OutboxSignal
{
    private readonly SemaphoreSlim _signal = new(0, 1);

    public void Notify()
    {
        try
        {
            if (_signal.CurrentCount == 0)
            {
                _signal.Release();
            }
        }
        catch (SemaphoreFullException)
        {
            // Already signalled.
        }
    }

    public Task<bool> WaitAsync(TimeSpan timeout, CancellationToken ct) => _signal.WaitAsync(timeout, ct);
}
