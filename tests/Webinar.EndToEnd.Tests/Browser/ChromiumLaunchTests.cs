using System.Net;
using System.Net.Sockets;
using System.Text;
using Webinar.EndToEnd.Tests.Infrastructure;

namespace Webinar.EndToEnd.Tests.Browser;

/// <summary>Checks the browser harness alone: Debian's Chromium under Playwright with the fake camera.</summary>
public sealed class ChromiumLaunchTests(ChromiumFixture chromium) : IClassFixture<ChromiumFixture>
{
    private const string Page = """
        <!doctype html><html><body><h1 id="h">hello</h1>
        <script>
          window.camera = navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } })
            .then(s => { const v = s.getVideoTracks()[0].getSettings(); return { width: v.width, height: v.height, audio: s.getAudioTracks().length }; });
          window.pc = (async () => {
            const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
            pc.addTransceiver('video', { direction: 'recvonly' });
            const offer = await pc.createOffer();
            pc.close();
            return offer.sdp.includes('m=video');
          })();
        </script></body></html>
        """;

    [Fact]
    public async Task Chromium_opens_a_local_page_with_a_720p_fake_camera_and_webrtc()
    {
        using var server = new HttpListener();
        var port = FreePort();
        server.Prefixes.Add($"http://127.0.0.1:{port}/");
        server.Start();
        var serving = ServeAsync(server);

        var page = await chromium.NewPageAsync();
        await page.GotoAsync($"http://127.0.0.1:{port}/");

        Assert.Equal("hello", await page.TextContentAsync("#h"));
        var camera = await page.EvaluateAsync<CameraInfo>("window.camera");
        Assert.Equal(1280, camera.Width);
        Assert.Equal(720, camera.Height);
        Assert.Equal(1, camera.Audio);
        Assert.True(await page.EvaluateAsync<bool>("window.pc"));
        Assert.Contains("Chrom", await page.EvaluateAsync<string>("navigator.userAgent"), StringComparison.Ordinal);

        await page.Context.CloseAsync();
        server.Stop();
        await serving;
    }

    private static async Task ServeAsync(HttpListener server)
    {
        try
        {
            while (server.IsListening)
            {
                var context = await server.GetContextAsync();
                var body = Encoding.UTF8.GetBytes(Page);
                context.Response.ContentType = "text/html; charset=utf-8";
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
        {
            // Stopped.
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class CameraInfo
    {
        public int Width { get; set; }

        public int Height { get; set; }

        public int Audio { get; set; }
    }
}
