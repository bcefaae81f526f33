using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Access;

namespace DeliveryConsole.Features.Cli;

/// <summary>
/// Verbs of the console executable (<c>dotnet run --project Console -- &lt;verb&gt;</c>). Arguments
/// are checked before anything touches the database, so a bad call changes nothing.
/// </summary>
public sealed class CommandLine
{
    public const string Usage = """
        Usage: DeliveryConsole [verb] [options]

        With no verb the console starts (default http://127.0.0.1:5080; --urls overrides).

        Verbs:
          keys create --role viewer|operator|admin [--workspace NAME] [--name TEXT]
              Print a new API key. The workspace is created when none has that name
              (default: the default workspace). The key is shown only this once.
          seed-demo [--deliveries N] [--workspace NAME] [--workspaces W]
              Fill a workspace with a realistic 7-day history: endpoints, events,
              deliveries with their attempts, calls and callbacks (default N: 5000).
              With --workspaces W: W workspaces "NAME 01".."NAME W" (default NAME:
              "Demo customer") sharing the N deliveries.
          staff grant --email EMAIL --role viewer|operator|admin
              Make a console user platform staff: they see every workspace with that role
              (their views of workspaces they are not a member of are audited there).
          staff revoke --email EMAIL
              Take the platform staff flag away.
          rollups rebuild [--from yyyy-MM-dd] [--to yyyy-MM-dd]
              Recompute the hourly delivery rollups of the days from..to (UTC, inclusive;
              default: every hour) from the deliveries and their attempts.
          help
              Show this text.

        Any option of the form --Section:Key=value (e.g. --Database:Path=/tmp/dc.db) sets configuration.
        """;

    private CommandLine(string verb, Dictionary<string, string> options, string[] hostArgs)
    {
        Verb = verb;
        Options = options;
        HostArgs = hostArgs;
    }

    public string Verb { get; }
    public IReadOnlyDictionary<string, string> Options { get; }
    /// <summary>Configuration arguments passed on to the host.</summary>
    public string[] HostArgs { get; }
    public string? Error { get; private init; }
    public Role Role { get; private init; }
    public int Deliveries { get; private init; } = 5000;
    public int Workspaces { get; private init; } = 1;
    public DateTime? From { get; private init; }
    /// <summary>Exclusive: the day after --to.</summary>
    public DateTime? To { get; private init; }

    private static readonly string[] Verbs = ["keys create", "seed-demo", "staff grant", "staff revoke", "rollups rebuild", "help"];

    /// <summary>Null when the arguments start the web console; otherwise a command (which may carry an <see cref="Error"/>).</summary>
    public static CommandLine? Parse(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-') || args[0].Contains('='))
        {
            return null;
        }

        var verb = args[0];
        var rest = args.Skip(1).ToList();
        if (verb == "keys")
        {
            if (rest.Count == 0 || rest[0] != "create")
            {
                return Failed($"error: unknown command 'keys {rest.FirstOrDefault()}'. Did you mean 'keys create'?");
            }

            verb = "keys create";
            rest.RemoveAt(0);
        }
        else if (verb == "staff")
        {
            if (rest.Count == 0 || rest[0] is not ("grant" or "revoke"))
            {
                return Failed($"error: unknown command 'staff {rest.FirstOrDefault()}'. Did you mean 'staff grant' or 'staff revoke'?");
            }

            verb = "staff " + rest[0];
            rest.RemoveAt(0);
        }
        else if (verb == "rollups")
        {
            if (rest.Count == 0 || rest[0] != "rebuild")
            {
                return Failed($"error: unknown command 'rollups {rest.FirstOrDefault()}'. Did you mean 'rollups rebuild'?");
            }

            verb = "rollups rebuild";
            rest.RemoveAt(0);
        }

        var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var hostArgs = new List<string>();
        for (var i = 0; i < rest.Count; i++)
        {
            var arg = rest[i];
            if (arg.StartsWith("--", StringComparison.Ordinal) && arg.Contains(':'))
            {
                hostArgs.Add(arg);
                if (!arg.Contains('=') && i + 1 < rest.Count)
                {
                    hostArgs.Add(rest[++i]);
                }

                continue;
            }

            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length < 3)
            {
                return Failed($"error: unexpected argument '{arg}'.\n\n{Usage}");
            }

            var name = arg[2..];
            string value;
            if (name.Contains('='))
            {
                value = name[(name.IndexOf('=') + 1)..];
                name = name[..name.IndexOf('=')];
            }
            else if (i + 1 < rest.Count && !rest[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = rest[++i];
            }
            else
            {
                return Failed($"error: option --{name} needs a value.");
            }

            options[name] = value;
        }

        switch (verb)
        {
            case "help":
                return new CommandLine(verb, options, [.. hostArgs]);
            case "keys create":
                {
                    if (Unknown(options, "role", "workspace", "name") is { } unknown)
                    {
                        return Failed($"error: unknown option --{unknown} for 'keys create'.");
                    }

                    if (!options.TryGetValue("role", out var roleText))
                    {
                        return Failed($"error: 'keys create' needs --role ({Roles.AllowedList}).");
                    }

                    if (!Roles.TryParse(roleText, out var role))
                    {
                        return Failed($"error: invalid role '{roleText}'; use one of {Roles.AllowedList}.");
                    }

                    if (options.TryGetValue("workspace", out var workspace) && (string.IsNullOrWhiteSpace(workspace) || workspace.Length > 200))
                    {
                        return Failed("error: --workspace must be 1 to 200 characters.");
                    }

                    return new CommandLine(verb, options, [.. hostArgs]) { Role = role };
                }

            case "staff grant":
            case "staff revoke":
                {
                    var grant = verb == "staff grant";
                    if (Unknown(options, grant ? ["email", "role"] : ["email"]) is { } unknown)
                    {
                        return Failed($"error: unknown option --{unknown} for '{verb}'.");
                    }

                    if (!options.TryGetValue("email", out var email) || string.IsNullOrWhiteSpace(email))
                    {
                        return Failed($"error: '{verb}' needs --email EMAIL of a console user.");
                    }

                    var staffRole = Role.Viewer;
                    if (grant && (!options.TryGetValue("role", out var roleText) || !Roles.TryParse(roleText, out staffRole)))
                    {
                        return Failed($"error: 'staff grant' needs --role {Roles.AllowedList.Replace(", ", "|", StringComparison.Ordinal)}.");
                    }

                    return new CommandLine(verb, options, [.. hostArgs]) { Role = staffRole };
                }

            case "seed-demo":
                {
                    if (Unknown(options, "deliveries", "workspace", "workspaces") is { } unknown)
                    {
                        return Failed($"error: unknown option --{unknown} for 'seed-demo'.");
                    }

                    var deliveries = 5000;
                    if (options.TryGetValue("deliveries", out var text) && (!int.TryParse(text, out deliveries) || deliveries < 1 || deliveries > 20_000_000))
                    {
                        return Failed($"error: --deliveries must be a whole number from 1 to 20000000, not '{text}'.");
                    }

                    var workspaceCount = 1;
                    if (options.TryGetValue("workspaces", out var countText) && (!int.TryParse(countText, out workspaceCount) || workspaceCount < 1 || workspaceCount > 1000))
                    {
                        return Failed($"error: --workspaces must be a whole number from 1 to 1000, not '{countText}'.");
                    }

                    return new CommandLine(verb, options, [.. hostArgs]) { Deliveries = deliveries, Workspaces = workspaceCount };
                }

            case "rollups rebuild":
                {
                    if (Unknown(options, "from", "to") is { } unknown)
                    {
                        return Failed($"error: unknown option --{unknown} for 'rollups rebuild'.");
                    }

                    DateTime? from = null, to = null;
                    if (options.TryGetValue("from", out var fromText) && (from = InspectorQuery.ParseDay(fromText)) is null)
                    {
                        return Failed($"error: --from must be a date like 2026-11-01, not '{fromText}'.");
                    }

                    if (options.TryGetValue("to", out var toText) && (to = InspectorQuery.ParseDay(toText)?.AddDays(1)) is null)
                    {
                        return Failed($"error: --to must be a date like 2026-11-30, not '{toText}'.");
                    }

                    if (from is not null && to is not null && from >= to)
                    {
                        return Failed("error: --from must not be after --to.");
                    }

                    return new CommandLine(verb, options, [.. hostArgs]) { From = from, To = to };
                }

            default:
                return Failed($"error: unknown command '{verb}'. Known commands: {string.Join(", ", Verbs)}.\n\n{Usage}");
        }
    }

    public async Task<int> RunAsync(IServiceProvider services, TextWriter output, TextWriter errors, CancellationToken cancellationToken = default)
    {
        switch (Verb)
        {
            case "help":
                await output.WriteLineAsync(Usage);
                return 0;
            case "keys create":
                {
                    var keys = services.GetRequiredService<ApiKeyService>();
                    Options.TryGetValue("workspace", out var workspaceName);
                    Options.TryGetValue("name", out var name);
                    var (key, workspace, workspaceCreated) = await keys.CreateFromCommandLineAsync(workspaceName, Role, name, cancellationToken);
                    if (workspaceCreated)
                    {
                        await errors.WriteLineAsync($"Created workspace '{workspace.Name}' ({workspace.Id}).");
                    }

                    await errors.WriteLineAsync($"Created {Role.ToWire()} key {key.Key.Prefix}… in workspace '{workspace.Name}'. It is shown only once:");
                    await output.WriteLineAsync(key.PlainTextKey);
                    return 0;
                }

            case "seed-demo":
                {
                    Options.TryGetValue("workspace", out var workspaceName);
                    var seeder = ActivatorUtilities.CreateInstance<DemoSeeder>(services);
                    if (Workspaces == 1)
                    {
                        var result = await seeder.SeedAsync(workspaceName, Deliveries, progress => errors.WriteLine(progress), cancellationToken);
                        await output.WriteLineAsync(result.ToString());
                        return 0;
                    }

                    // Several customers: each its own workspace and share of the history.
                    var digits = Workspaces.ToString(System.Globalization.CultureInfo.InvariantCulture).Length;
                    for (var i = 1; i <= Workspaces; i++)
                    {
                        var name = $"{workspaceName ?? "Demo customer"} {i.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(digits, '0')}";
                        var share = Deliveries / Workspaces + (i <= Deliveries % Workspaces ? 1 : 0);
                        var result = await seeder.SeedAsync(name, Math.Max(1, share), progress => errors.WriteLine($"[{name}] {progress}"), cancellationToken);
                        await output.WriteLineAsync(result.ToString());
                    }

                    return 0;
                }

            case "staff grant":
            case "staff revoke":
                {
                    var grant = Verb == "staff grant";
                    var user = await services.GetRequiredService<UserService>().SetStaffByEmailAsync(Options["email"], grant ? Role : null, cancellationToken);
                    await output.WriteLineAsync(grant
                        ? $"{user.Email} is platform staff: {Role.ToWire()} in every workspace."
                        : $"{user.Email} is no longer platform staff.");
                    return 0;
                }

            case "rollups rebuild":
                {
                    var rows = await services.GetRequiredService<Stats.RollupRebuildJob>().RunAsync(From, To, cancellationToken);
                    await output.WriteLineAsync($"Rebuilt the delivery rollups of {(From is null && To is null ? "every hour" : $"{From:yyyy-MM-dd} .. {To?.AddDays(-1):yyyy-MM-dd}")}: {rows} rows written.");
                    return 0;
                }

            default:
                await errors.WriteLineAsync(Usage);
                return 2;
        }
    }

    private static CommandLine Failed(string message) => new("error", [], []) { Error = message };

    private static string? Unknown(Dictionary<string, string> options, params string[] known) =>
        options.Keys.FirstOrDefault(k => !known.Contains(k, StringComparer.OrdinalIgnoreCase));
}
