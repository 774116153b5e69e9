using System.Net;
using System.Net.Http.Headers;
using MassTransit;
using Webinar.Contracts.Archives;
using Webinar.ControlPlane.Tests.Infrastructure;

namespace Webinar.ControlPlane.Tests.Archives;

/// <summary>The control plane with an archive directory of its own.</summary>
public sealed class ArchiveFixture : ControlPlaneFixture
{
    public string ArchiveDirectory { get; } = Path.Combine(Path.GetTempPath(), "webinar-cp-archives-" + Guid.NewGuid().ToString("N"));

    protected override IEnumerable<KeyValuePair<string, string?>> ExtraSettings => [new("Archives:Directory", ArchiveDirectory)];

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Directory.Exists(ArchiveDirectory))
        {
            Directory.Delete(ArchiveDirectory, recursive: true);
        }
    }
}

/// <summary>The archive API against real PostgreSQL and RabbitMQ; the test plays the node's part on the bus.</summary>
public sealed class ArchiveApiTests(ArchiveFixture fixture) : IClassFixture<ArchiveFixture>
{
    private readonly HttpClient _client = fixture.Client;

    [Fact]
    public async Task Start_answers_Started_with_the_defaults_tells_the_primarys_node_and_a_second_start_is_a_conflict()
    {
        var meetingId = await ApiClient.CreateMeetingAsync(_client, "eu-west-1");

        var started = await ApiClient.PostAsync(_client, $"/meetings/{meetingId}/archives", new { Name = "launch" });
        Assert.Equal(HttpStatusCode.Created, started.Status);
        var archive = started.Body.GetProperty("Archive");
        var archiveId = archive.GetProperty("ArchiveId").GetGuid();
        Assert.Equal("Started", archive.GetProperty("Status").GetString());
        Assert.Equal(meetingId, archive.GetProperty("MeetingId").GetGuid());
        Assert.Equal("Composed", archive.GetProperty("OutputMode").GetString());
        Assert.Equal("1280x720", archive.GetProperty("Resolution").GetString());
        Assert.Equal("Grid", archive.GetProperty("Layout").GetString());
        Assert.True(archive.GetProperty("HasAudio").GetBoolean() && archive.GetProperty("HasVideo").GetBoolean());
        Assert.False(archive.TryGetProperty("Url", out _));
        var told = await fixture.Events.WaitForAsync<ArchiveStarted>(e => e.ArchiveId == archiveId);
        Assert.Equal(ControlPlaneFixture.NodeId("eu-west-1"), told.NodeId);
        Assert.Equal((1280, 720), (told.Settings.Width, told.Settings.Height));

        var second = await ApiClient.PostAsync(_client, $"/meetings/{meetingId}/archives", new { OutputMode = "Individual" });
        Assert.Equal(HttpStatusCode.Conflict, second.Status);
        Assert.Equal("Conflict", second.Code);

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => ApiClient.PostAsync(_client, $"/meetings/{meetingId}/archives", new { })));
        Assert.All(concurrent, r => Assert.Equal(HttpStatusCode.Conflict, r.Status));

        var stopped = await ApiClient.PostAsync(_client, $"/meetings/{meetingId}/archives/{archiveId}/stop", new { });
        Assert.Equal(HttpStatusCode.OK, stopped.Status);
        Assert.Equal("Stopped", stopped.Body.GetProperty("Archive").GetProperty("Status").GetString());
        Assert.Equal("Api", stopped.Body.GetProperty("Archive").GetProperty("Reason").GetString());
        await fixture.Events.WaitForAsync<ArchiveStopped>(e => e.ArchiveId == archiveId && e.Reason == "Api");
        Assert.Equal(HttpStatusCode.Conflict, (await ApiClient.PostAsync(_client, $"/meetings/{meetingId}/archives/{archiveId}/stop", new { })).Status);

        // Stopped, not yet available: a new archive may start.
        Assert.Equal(HttpStatusCode.Created, (await ApiClient.PostAsync(_client, $"/meetings/{meetingId}/archives", new { })).Status);
        var list = await ApiClient.GetAsync(_client, $"/meetings/{meetingId}/archives");
        Assert.Equal(2, list.Body.GetProperty("Archives").GetArrayLength());
    }

    [Fact]
    public async Task Bad_requests_are_400_unknown_ids_404_and_a_replica_names_its_primary()
    {
        var primary = await ApiClient.CreateMeetingAsync(_client, "us-east-1");
        var replica = await ApiClient.CreateMeetingAsync(_client, "eu-west-1", primary);

        var onReplica = await ApiClient.PostAsync(_client, $"/meetings/{replica}/archives", new { });
        Assert.Equal(HttpStatusCode.BadRequest, onReplica.Status);
        Assert.Contains(primary.ToString(), onReplica.Body.GetProperty("Message").GetString());

        foreach (var body in new object[]
        {
            new { Resolution = "800x600" },
            new { OutputMode = "Mosaic" },
            new { Layout = "Pip" },
            new { HasAudio = false, HasVideo = false },
            new { HasAudio = "yes" },
        })
        {
            var r = await ApiClient.PostAsync(_client, $"/meetings/{primary}/archives", body);
            Assert.Equal(HttpStatusCode.BadRequest, r.Status);
            Assert.Equal("BadRequest", r.Code);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.PostAsync(_client, $"/meetings/{Guid.NewGuid()}/archives", new { })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await ApiClient.PostAsync(_client, "/meetings/not-a-guid/archives", new { })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.GetAsync(_client, $"/archives/{Guid.NewGuid()}")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await ApiClient.GetAsync(_client, "/archives/nope")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.GetAsync(_client, $"/meetings/{Guid.NewGuid()}/archives")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.PostAsync(_client, $"/meetings/{primary}/archives/{Guid.NewGuid()}/stop", new { })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.DeleteAsync(_client, $"/archives/{Guid.NewGuid()}")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await fixture.CreateAnonymousClient().GetAsync($"/archives/{Guid.NewGuid()}")).StatusCode);

        var always = await ApiClient.PostAsync(_client, "/meetings", new { ClientRequestToken = Guid.NewGuid().ToString(), MediaRegion = "us-east-1", PrimaryMeetingId = primary, ArchiveMode = "Always" });
        Assert.Equal(HttpStatusCode.BadRequest, always.Status);
        var unknownMode = await ApiClient.PostAsync(_client, "/meetings", new { ClientRequestToken = Guid.NewGuid().ToString(), MediaRegion = "us-east-1", ArchiveMode = "Sometimes" });
        Assert.Equal(HttpStatusCode.BadRequest, unknownMode.Status);
    }

    [Fact]
    public async Task A_stored_archive_is_Available_with_a_signed_Url_served_with_ranges_and_deleting_it_removes_the_file()
    {
        var meetingId = await ApiClient.CreateMeetingAsync(_client, "us-east-1");
        var archiveId = (await ApiClient.PostAsync(_client, $"/meetings/{meetingId}/archives", new { })).Body.GetProperty("Archive").GetProperty("ArchiveId").GetGuid();
        var content = new byte[5000];
        Random.Shared.NextBytes(content);
        var dir = Path.Combine(fixture.ArchiveDirectory, archiveId.ToString("D"));
        Directory.CreateDirectory(dir);
        await File.WriteAllBytesAsync(Path.Combine(dir, "archive.mp4"), content);

        // What the recording node reports once ffmpeg is done.
        var recorder = (await fixture.Events.WaitForAsync<ArchiveStarted>(e => e.ArchiveId == archiveId)).NodeId;
        await fixture.Events.Bus.Publish(new ArchiveStopped(archiveId, meetingId, "MaxDuration", DateTimeOffset.UtcNow, recorder));
        await fixture.Events.Bus.Publish(new ArchiveAvailable(archiveId, meetingId, 12.5, content.Length, "archive.mp4", "video/mp4", false, DateTimeOffset.UtcNow, recorder));
        ApiClient.Response got = default!;
        await ControlPlaneFixture.WaitUntilAsync(async () =>
        {
            got = await ApiClient.GetAsync(_client, $"/archives/{archiveId}");
            return got.Body.GetProperty("Archive").GetProperty("Status").GetString() == "Available";
        }, TimeSpan.FromSeconds(15), "the archive to become Available");
        var archive = got.Body.GetProperty("Archive");
        Assert.Equal("MaxDuration", archive.GetProperty("Reason").GetString());
        Assert.Equal(12.5, archive.GetProperty("Duration").GetDouble());
        Assert.Equal(content.Length, archive.GetProperty("Size").GetInt64());
        var url = archive.GetProperty("Url").GetString()!;

        var anonymous = fixture.CreateAnonymousClient();
        using var ranged = new HttpRequestMessage(HttpMethod.Get, url);
        ranged.Headers.Range = new RangeHeaderValue(1000, 1999);
        using var partial = await anonymous.SendAsync(ranged);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal("video/mp4", partial.Content.Headers.ContentType?.MediaType);
        Assert.Equal(content[1000..2000], await partial.Content.ReadAsByteArrayAsync());
        Assert.Equal(content, await anonymous.GetByteArrayAsync(url));
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync($"/archives/{archiveId}/content")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(url.Replace("signature=", "signature=0", StringComparison.Ordinal))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/archives/{archiveId}/content")).StatusCode);

        // A late report changes nothing.
        await fixture.Events.Bus.Publish(new ArchiveFailed(archiveId, meetingId, "late", DateTimeOffset.UtcNow, recorder));
        Assert.Equal(HttpStatusCode.NoContent, (await ApiClient.DeleteAsync(_client, $"/archives/{archiveId}")).Status);
        Assert.False(Directory.Exists(dir));
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.GetAsync(_client, $"/archives/{archiveId}")).Status);
    }

    [Fact]
    public async Task Deleting_the_meeting_stops_its_archive_and_a_node_failure_report_makes_it_Failed_with_the_reason()
    {
        var meetingId = await ApiClient.CreateMeetingAsync(_client, "us-east-1");
        var archiveId = (await ApiClient.PostAsync(_client, $"/meetings/{meetingId}/archives", new { })).Body.GetProperty("Archive").GetProperty("ArchiveId").GetGuid();
        Assert.Equal(HttpStatusCode.Conflict, (await ApiClient.DeleteAsync(_client, $"/archives/{archiveId}")).Status);

        Assert.Equal(HttpStatusCode.NoContent, (await ApiClient.DeleteAsync(_client, $"/meetings/{meetingId}")).Status);
        await fixture.Events.WaitForAsync<ArchiveStopped>(e => e.ArchiveId == archiveId && e.Reason == "MeetingEnded");
        var stopped = await ApiClient.GetAsync(_client, $"/archives/{archiveId}");
        Assert.Equal("Stopped", stopped.Body.GetProperty("Archive").GetProperty("Status").GetString());
        Assert.Single((await ApiClient.GetAsync(_client, $"/meetings/{meetingId}/archives")).Body.GetProperty("Archives").EnumerateArray());

        var recorder = (await fixture.Events.WaitForAsync<ArchiveStarted>(e => e.ArchiveId == archiveId)).NodeId;
        await fixture.Events.Bus.Publish(new ArchiveFailed(archiveId, meetingId, "ffmpeg failed (exit 1): boom", DateTimeOffset.UtcNow, recorder));
        await ControlPlaneFixture.WaitUntilAsync(async () =>
            (await ApiClient.GetAsync(_client, $"/archives/{archiveId}")).Body.GetProperty("Archive").GetProperty("Status").GetString() == "Failed",
            TimeSpan.FromSeconds(15), "the archive to become Failed");
        var failed = (await ApiClient.GetAsync(_client, $"/archives/{archiveId}")).Body.GetProperty("Archive");
        Assert.Equal("ffmpeg failed (exit 1): boom", failed.GetProperty("Reason").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await ApiClient.GetAsync(_client, $"/archives/{archiveId}/content")).Status);
    }

    [Fact]
    public async Task Reports_from_a_node_that_does_not_record_the_archive_change_nothing_and_the_recorders_own_are_applied()
    {
        var meetingId = await ApiClient.CreateMeetingAsync(_client, "us-east-1");
        var archiveId = (await ApiClient.PostAsync(_client, $"/meetings/{meetingId}/archives", new { })).Body.GetProperty("Archive").GetProperty("ArchiveId").GetGuid();
        var recorder = (await fixture.Events.WaitForAsync<ArchiveStarted>(e => e.ArchiveId == archiveId)).NodeId;
        var other = ControlPlaneFixture.NodeId("eu-west-1");
        Assert.NotEqual(recorder, other);

        // Another node claims the archive stopped, failed and was stored.
        await fixture.Events.Bus.Publish(new ArchiveStopped(archiveId, meetingId, "MaxDuration", DateTimeOffset.UtcNow, other));
        await fixture.Events.Bus.Publish(new ArchiveFailed(archiveId, meetingId, "forged", DateTimeOffset.UtcNow, other));
        await fixture.Events.Bus.Publish(new ArchiveAvailable(archiveId, meetingId, 1, 1, "archive.mp4", "video/mp4", false, DateTimeOffset.UtcNow, other));
        // For the next three seconds (a consumer takes milliseconds) the archive is still recording.
        for (var i = 0; i < 6; i++)
        {
            await Task.Delay(500);
            var status = (await ApiClient.GetAsync(_client, $"/archives/{archiveId}")).Body.GetProperty("Archive").GetProperty("Status").GetString();
            Assert.Equal("Started", status);
        }

        // The recorder's own stop is applied.
        await fixture.Events.Bus.Publish(new ArchiveStopped(archiveId, meetingId, "NodeRestart", DateTimeOffset.UtcNow, recorder));
        await ControlPlaneFixture.WaitUntilAsync(async () =>
            (await ApiClient.GetAsync(_client, $"/archives/{archiveId}")).Body.GetProperty("Archive").GetProperty("Status").GetString() == "Stopped",
            TimeSpan.FromSeconds(15), "the recorder's stop to be applied");
        var archive = (await ApiClient.GetAsync(_client, $"/archives/{archiveId}")).Body.GetProperty("Archive");
        Assert.Equal("NodeRestart", archive.GetProperty("Reason").GetString());
    }

    [Fact]
    public async Task A_moderators_archive_command_is_obeyed_only_from_the_node_hosting_the_meeting()
    {
        var meetingId = await ApiClient.CreateMeetingAsync(_client, "us-east-1");
        var host = (await fixture.Events.WaitForAsync<Webinar.Contracts.Meetings.MeetingCreated>(e => e.MeetingId == meetingId)).NodeId;
        var other = ControlPlaneFixture.NodeId("eu-west-1");
        Assert.NotEqual(host, other);
        var client = fixture.Events.Bus.CreateRequestClient<ArchiveCommand>(RequestTimeout.After(s: 15));

        var foreign = (await client.GetResponse<ArchiveCommandResult>(new ArchiveCommand(meetingId, Guid.NewGuid(), Start: true, other))).Message;
        Assert.False(foreign.Succeeded);
        Assert.Equal("wrong-meeting-node", foreign.Code);
        Assert.Empty((await ApiClient.GetAsync(_client, $"/meetings/{meetingId}/archives")).Body.GetProperty("Archives").EnumerateArray());

        var hosted = (await client.GetResponse<ArchiveCommandResult>(new ArchiveCommand(meetingId, Guid.NewGuid(), Start: true, host))).Message;
        Assert.True(hosted.Succeeded);
        Assert.Single((await ApiClient.GetAsync(_client, $"/meetings/{meetingId}/archives")).Body.GetProperty("Archives").EnumerateArray());
    }
}
