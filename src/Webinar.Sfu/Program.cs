using Webinar.Sfu.Hosting;

var app = SfuApplication.Create(args);
await app.RunAsync();
