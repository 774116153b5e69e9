using Webinar.Connector.Client;

namespace Webinar.Media.Tests.Client;

public sealed class NackRequestQueueTests
{
    [Fact]
    public void Requests_come_out_in_order_across_the_ring_wrap_and_a_full_ring_refuses_more()
    {
        var queue = new NackRequestQueue();
        for (int round = 0; round < 3; round++)
        {
            int accepted = 0;
            while (queue.TryEnqueue(round, (ushort)(65530 + accepted)))
            {
                accepted++;
            }

            Assert.Equal(1023, accepted);
            for (int i = 0; i < accepted; i++)
            {
                Assert.True(queue.TryDequeue(out int track, out ushort seq));
                Assert.Equal((round, (ushort)(65530 + i)), (track, seq));
            }

            Assert.False(queue.TryDequeue(out _, out _));
        }
    }
}
