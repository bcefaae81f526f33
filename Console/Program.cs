using DeliveryConsole.Components;
using DeliveryConsole.Data;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Audit;
using DeliveryConsole.Features.Callbacks;
using DeliveryConsole.Features.Calls;
using DeliveryConsole.Features.Cli;
using DeliveryConsole.Features.Dashboard;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Features.Health;
using DeliveryConsole.Features.Inboxes;
using DeliveryConsole.Features.Portal;
using DeliveryConsole.Features.Stats;
using DeliveryConsole.Features.Webhooks;
using DeliveryConsole.Features.Workspaces;
using DeliveryConsole.Infrastructure;
using DeliveryConsole.Infrastructure.Api;

var command = CommandLine.Parse(args);
if (command is { Error: not null })
{
    await Console.Error.WriteLineAsync(command.Error);
    return 2;
}

if (command is { Verb: "help" })
{
    await Console.Out.WriteAsync(command.HelpText);
    return 0;
}

// Settings are read once at start-up (and validated then): watching appsettings for changes would
// put a file-system watcher on the content root, which reacts to every write of the database's WAL
// when the console runs in its data folder.
var builder = WebApplication.CreateBuilder([.. command?.HostArgs ?? args, "--hostBuilder:reloadConfigOnChange=false"]);
// The settings shipped beside the executable apply wherever it is started from (the content root
// is the working folder, which for `dotnet …/DeliveryConsole.dll` in a data folder has no appsettings.json);
// the content root's own file, when there is one, still overrides them.
builder.Configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource
{
    Path = "appsettings.json",
    FileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(AppContext.BaseDirectory),
    Optional = true,
    ReloadOnChange = false,
});
if (string.IsNullOrEmpty(builder.Configuration["urls"]))
{
    builder.WebHost.UseUrls("http://127.0.0.1:5080");
}

if (command is not null)
{
    // A verb's standard output is its result alone (a key, a summary): every log line goes to standard error.
    builder.Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
}

builder.WebHost.UseStaticWebAssets();
// Long API URLs get a 414 in their group's envelope from the app (ApiErrorFallback), not Kestrel's empty one.
// No request body over the largest route limit is read at all (RequestBody has the one size rule).
builder.WebHost.ConfigureKestrel(kestrel =>
{
    kestrel.Limits.MaxRequestLineSize = ApiErrorFallback.KestrelRequestLineLimit;
    kestrel.Limits.MaxRequestBodySize = RequestBody.ServerLimit;
});
builder.Services.AddSingleton(TimeProvider.System);

builder.AddRequestOrigin();
builder.AddDatabase();
builder.AddWorkspaces();
builder.AddAccess();
builder.AddAudit();
builder.AddWebhooks();
builder.AddCalls();
builder.AddCallbacks();
builder.AddPortal();
builder.AddInboxes();
builder.AddDashboard();
builder.AddStats();
builder.AddDeliveries();
builder.AddDeliveryEngine();
builder.AddBackgroundJobs();
builder.AddApiRateLimiting();
builder.Services.AddSingleton<BodyBudget>();
builder.AddConsoleUi();
builder.Services.AddApiDocument();

var app = builder.Build();

if (OptionsCheck.Problem(app.Services, app.Configuration) is { } problem)
{
    await Console.Error.WriteLineAsync(problem);
    return 2;
}

// Plain progress for whoever started it: on standard output for the web console, on standard
// error for a verb (whose standard output is its result alone).
var progress = command is null ? Console.Out : Console.Error;
StartupReport report;
try
{
    await progress.WriteLineAsync($"Delivery Console: preparing the database ({app.Services.DescribeDatabase()}: migrations, default workspace, first admin)…");
    report = await app.Services.PrepareAsync();
    await progress.WriteLineAsync("Delivery Console: database ready.");
}
catch (StartupException exception)
{
    await Console.Error.WriteLineAsync($"error: {exception.Message}");
    return 2;
}

if (command is not null && report.GeneratedPassword is not null)
{
    await Console.Error.WriteLineAsync(FirstRunBanner.Text(null, report));
}

if (command is not null)
{
    try
    {
        return await command.RunAsync(app.Services, Console.Out, Console.Error);
    }
    catch (Exception exception) when (exception is AppException or System.Data.Common.DbException or IOException)
    {
        await Console.Error.WriteLineAsync($"error: {exception.Message}");
        return 1;
    }
}

app.UseRequestOrigin();
app.UseConsoleErrorPages();
app.UseWorkspacePaths();
app.UseRouting();
app.UseAuthentication();
app.UseWorkspaceGate();
app.UseAuthorization();
app.UseRateLimiter();
app.UseAntiforgery();

app.MapHealth();
app.MapSystemApi();
app.MapOpenApi();
app.MapAccess();
app.MapWebhooks();
app.MapDeliveryEngine();
app.MapDeliveryApi();
app.MapStats();
app.MapDeliveryExport();
app.MapCalls();
app.MapCallbacks();
app.MapPortal();
app.MapInboxes();
app.MapJobsDashboard();
app.MapConsoleUi();

app.Lifetime.ApplicationStarted.Register(() =>
{
    var urls = string.Join(", ", app.Urls);
    Console.Out.WriteLine(report.GeneratedPassword is null ? $"Delivery Console: ready at {urls} (Ctrl+C stops it)." : FirstRunBanner.Text(urls, report));
});
await app.RunAsync();
return 0;

/// <summary>Entry point; public so WebApplicationFactory can host it in tests.</summary>
public partial class Program;
