using Webinar.ControlPlane.Hosting;

var app = ControlPlaneApp.Build(args);
app.Run();
