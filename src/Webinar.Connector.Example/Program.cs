using Webinar.Connector.Example;

// A recording bot (RecorderBot): joins a meeting (typically a replica) with a join token, prints presence and streams,
// writes the presenter's audio to presenter.wav (48 kHz mono) and one video frame per second to frame-NNNN.ppm, for
// [seconds] after media connects (0 or absent: until Ctrl-C).
//
//   dotnet run --project src/Webinar.Connector.Example -- <signalling url> <join token> [output dir] [seconds] [presenter externalUserId]
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Webinar.Connector.Example <signalling url> <join token> [output dir] [seconds] [presenter externalUserId]");
    return 2;
}

double seconds = args.Length > 3 ? double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 0;
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; stop.Cancel(); };
var bot = new RecorderBot(args.Length > 2 ? args[2] : ".", args.Length > 4 ? args[4] : null, Console.Out);
await using (bot)
{
    bot.Session.Disconnected += (_, _) => stop.Cancel();
    if (seconds > 0)
    {
        bot.Session.Connected += (_, _) => stop.CancelAfter(TimeSpan.FromSeconds(seconds));
    }

    await bot.StartAsync(new Uri(args[0]), args[1], stop.Token);
    try
    {
        await Task.Delay(Timeout.Infinite, stop.Token);
    }
    catch (OperationCanceledException)
    {
    }
}

return 0;
