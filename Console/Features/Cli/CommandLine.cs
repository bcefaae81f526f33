using System.CommandLine;
using System.Text.Json;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries;

namespace DeliveryConsole.Features.Cli;

/// <summary>
/// Verbs of the console executable (<c>dotnet run --project Console -- &lt;verb&gt;</c>). Arguments
/// are checked before anything touches the database, so a bad call changes nothing.
/// </summary>
public sealed class CommandLine
{
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
    /// <summary>What <c>help</c> or <c>--help</c> prints (the verbs, or one verb's options).</summary>
    public string HelpText { get; private init; } = "";
    public Role Role { get; private init; }
    public bool Json { get; private init; }
    public int Deliveries { get; private init; } = 5000;
    public int Workspaces { get; private init; } = 1;
    public DateTime? From { get; private init; }
    /// <summary>Exclusive: the day after --to.</summary>
    public DateTime? To { get; private init; }

    /// <summary>The verbs and their options (System.CommandLine), built once per parse.</summary>
    private sealed class Grammar
    {
        public readonly RootCommand Root = new("Delivery Console. With no verb it starts the web console (default http://127.0.0.1:5080; --urls overrides). Any option of the form --Section:Key=value (e.g. --Database:Path=/tmp/dc.db) sets configuration.");
        public readonly Command Keys = new("keys", "Manage API keys.");
        public readonly Command KeysCreate = new("create", "Print a new API key (shown only this once) on standard output; what else is said goes to standard error.");
        public readonly Option<Role?> KeyRole = RoleOption("The key's role.");
        public readonly Option<string> KeyWorkspace = new("--workspace") { Description = "The workspace, created when none has that name (default: the default workspace)." };
        public readonly Option<string> KeyName = new("--name") { Description = "A label for the key." };
        public readonly Option<bool> KeyJson = new("--json") { Description = "Print {key, id, prefix, role, workspace} as JSON instead of the key alone." };
        public readonly Command Seed = new("seed-demo", "Fill a workspace with a realistic 7-day history: endpoints, events, deliveries with their attempts, calls and callbacks.");
        public readonly Option<int> SeedDeliveries = Bounded("--deliveries", "How many deliveries.", 5000, 1, 20_000_000);
        public readonly Option<string> SeedWorkspace = new("--workspace") { Description = "The workspace's name (several: its prefix, default \"Demo customer\")." };
        public readonly Option<int> SeedWorkspaces = Bounded("--workspaces", "How many workspaces share the deliveries (\"NAME 01\".. \"NAME W\").", 1, 1, 1000);
        public readonly Command Staff = new("staff", "Platform staff: users who see every workspace.");
        public readonly Command StaffGrant = new("grant", "Make a console user platform staff with a role in every workspace (their views of workspaces they are not a member of are audited there).");
        public readonly Command StaffRevoke = new("revoke", "Take the platform staff flag away.");
        public readonly Option<string> GrantEmail = new("--email") { Description = "The user's email." };
        public readonly Option<Role?> GrantRole = RoleOption("The role in every workspace.");
        public readonly Option<string> RevokeEmail = new("--email") { Description = "The user's email." };
        public readonly Command Rollups = new("rollups", "The hourly delivery rollups.");
        public readonly Command RollupsRebuild = new("rebuild", "Recompute the hourly delivery rollups of the days from..to (UTC, inclusive; default: every hour) from the deliveries and their attempts.");
        public readonly Option<DateTime?> RebuildFrom = Day("--from", "The first day, yyyy-MM-dd (UTC).");
        public readonly Option<DateTime?> RebuildTo = Day("--to", "The last day, yyyy-MM-dd (UTC), inclusive.");
        public readonly Command Help = new("help", "Show the verbs.");

        public Grammar()
        {
            KeysCreate.Options.Add(KeyRole);
            KeysCreate.Options.Add(KeyWorkspace);
            KeysCreate.Options.Add(KeyName);
            KeysCreate.Options.Add(KeyJson);
            KeysCreate.Validators.Add(r =>
            {
                if (r.GetResult(KeyRole) is null)
                {
                    r.AddError($"'keys create' needs --role ({Roles.AllowedList}).");
                }
                else if (r.GetValue(KeyWorkspace) is { } workspace && (string.IsNullOrWhiteSpace(workspace) || workspace.Length > 200))
                {
                    r.AddError("--workspace must be 1 to 200 characters.");
                }
            });
            Keys.Subcommands.Add(KeysCreate);
            Keys.Validators.Add(r => OnlyAlone(r, "'keys' needs a command. Did you mean 'keys create'?"));

            Seed.Options.Add(SeedDeliveries);
            Seed.Options.Add(SeedWorkspace);
            Seed.Options.Add(SeedWorkspaces);

            StaffGrant.Options.Add(GrantEmail);
            StaffGrant.Options.Add(GrantRole);
            StaffGrant.Validators.Add(r =>
            {
                if (string.IsNullOrWhiteSpace(r.GetValue(GrantEmail)))
                {
                    r.AddError("'staff grant' needs --email EMAIL of a console user.");
                }
                else if (r.GetResult(GrantRole) is null)
                {
                    r.AddError($"'staff grant' needs --role {Roles.AllowedList.Replace(", ", "|", StringComparison.Ordinal)}.");
                }
            });
            StaffRevoke.Options.Add(RevokeEmail);
            StaffRevoke.Validators.Add(r =>
            {
                if (string.IsNullOrWhiteSpace(r.GetValue(RevokeEmail)))
                {
                    r.AddError("'staff revoke' needs --email EMAIL of a console user.");
                }
            });
            Staff.Subcommands.Add(StaffGrant);
            Staff.Subcommands.Add(StaffRevoke);
            Staff.Validators.Add(r => OnlyAlone(r, "'staff' needs a command. Did you mean 'staff grant' or 'staff revoke'?"));

            RollupsRebuild.Options.Add(RebuildFrom);
            RollupsRebuild.Options.Add(RebuildTo);
            RollupsRebuild.Validators.Add(r =>
            {
                // Only when both dates read (a bad one has its own error already).
                if (r.GetResult(RebuildFrom) is { } from && r.GetResult(RebuildTo) is { } to
                    && InspectorQuery.ParseDay(from.Tokens.FirstOrDefault()?.Value) is { } first && InspectorQuery.ParseDay(to.Tokens.FirstOrDefault()?.Value) is { } last && first > last)
                {
                    r.AddError("--from must not be after --to.");
                }
            });
            Rollups.Subcommands.Add(RollupsRebuild);
            Rollups.Validators.Add(r => OnlyAlone(r, "'rollups' needs a command. Did you mean 'rollups rebuild'?"));

            Root.Subcommands.Add(Keys);
            Root.Subcommands.Add(Seed);
            Root.Subcommands.Add(Staff);
            Root.Subcommands.Add(Rollups);
            Root.Subcommands.Add(Help);
        }

        /// <summary>A group's error when no verb of it was given ("keys" alone, or "keys delete").</summary>
        private static void OnlyAlone(System.CommandLine.Parsing.CommandResult result, string message)
        {
            if (!result.Children.OfType<System.CommandLine.Parsing.CommandResult>().Any())
            {
                result.AddError(message);
            }
        }

        private static Option<Role?> RoleOption(string description) => new("--role")
        {
            Description = $"{description} One of {Roles.AllowedList}.",
            CustomParser = result =>
            {
                var text = result.Tokens.Single().Value;
                if (Roles.TryParse(text, out var role))
                {
                    return role;
                }

                result.AddError($"invalid role '{text}'; use one of {Roles.AllowedList}.");
                return null;
            },
        };

        private static Option<int> Bounded(string name, string description, int fallback, int min, int max) => new(name)
        {
            Description = $"{description} {min} to {max} (default {fallback}).",
            DefaultValueFactory = _ => fallback,
            CustomParser = result =>
            {
                var text = result.Tokens.Single().Value;
                if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= min && value <= max)
                {
                    return value;
                }

                result.AddError($"{name} must be a whole number from {min} to {max}, not '{text}'.");
                return fallback;
            },
        };

        private static Option<DateTime?> Day(string name, string description) => new(name)
        {
            Description = description,
            CustomParser = result =>
            {
                var text = result.Tokens.Single().Value;
                if (InspectorQuery.ParseDay(text) is { } day)
                {
                    return day;
                }

                result.AddError($"{name} must be a date like 2026-11-01, not '{text}'.");
                return null;
            },
        };
    }

    /// <summary>Null when the arguments start the web console; otherwise a command (which may carry an <see cref="Error"/>).</summary>
    public static CommandLine? Parse(string[] args)
    {
        if (args.Length == 0 || args[0].StartsWith('-') || args[0].Contains('='))
        {
            return null;
        }

        // Configuration (--Section:Key=value, or --Section:Key value) goes to the host, not to the verbs.
        var verbArgs = new List<string>();
        var hostArgs = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith("--", StringComparison.Ordinal) && args[i].Contains(':'))
            {
                hostArgs.Add(args[i]);
                if (!args[i].Contains('=') && i + 1 < args.Length)
                {
                    hostArgs.Add(args[++i]);
                }
            }
            else
            {
                verbArgs.Add(args[i]);
            }
        }

        var grammar = new Grammar();
        var parsed = grammar.Root.Parse(verbArgs);
        if (parsed.Action is System.CommandLine.Help.HelpAction || parsed.CommandResult.Command == grammar.Help)
        {
            // help, or --help after any verb: that verb's options.
            using var text = new StringWriter();
            var target = parsed.CommandResult.Command == grammar.Help ? grammar.Root.Parse(["--help"]) : parsed;
            target.Invoke(new InvocationConfiguration { Output = text });
            return new CommandLine("help", [], [.. hostArgs]) { HelpText = text.ToString() };
        }

        if (parsed.Errors.Count > 0)
        {
            // The most telling first: an unknown word, then our own words, then System.CommandLine's generic "required command was not provided".
            var first = parsed.Errors.Select(e => e.Message)
                .OrderBy(m => m.StartsWith("Unrecognized", StringComparison.Ordinal) ? 0 : m.StartsWith("Required command", StringComparison.Ordinal) ? 2 : 1)
                .First();
            return Failed($"error: {Lower(first)}\nRun with --help for the verbs and their options.");
        }

        var command = parsed.CommandResult.Command;
        var options = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        void Keep(string name, string? value)
        {
            if (value is not null)
            {
                options[name] = value;
            }
        }

        if (command == grammar.KeysCreate)
        {
            Keep("workspace", parsed.GetValue(grammar.KeyWorkspace));
            Keep("name", parsed.GetValue(grammar.KeyName));
            return new CommandLine("keys create", options, [.. hostArgs]) { Role = parsed.GetValue(grammar.KeyRole)!.Value, Json = parsed.GetValue(grammar.KeyJson) };
        }

        if (command == grammar.Seed)
        {
            Keep("workspace", parsed.GetValue(grammar.SeedWorkspace));
            return new CommandLine("seed-demo", options, [.. hostArgs]) { Deliveries = parsed.GetValue(grammar.SeedDeliveries), Workspaces = parsed.GetValue(grammar.SeedWorkspaces) };
        }

        if (command == grammar.StaffGrant)
        {
            Keep("email", parsed.GetValue(grammar.GrantEmail));
            return new CommandLine("staff grant", options, [.. hostArgs]) { Role = parsed.GetValue(grammar.GrantRole)!.Value };
        }

        if (command == grammar.StaffRevoke)
        {
            Keep("email", parsed.GetValue(grammar.RevokeEmail));
            return new CommandLine("staff revoke", options, [.. hostArgs]);
        }

        if (command == grammar.RollupsRebuild)
        {
            return new CommandLine("rollups rebuild", options, [.. hostArgs]) { From = parsed.GetValue(grammar.RebuildFrom), To = parsed.GetValue(grammar.RebuildTo)?.AddDays(1) };
        }

        return Failed("error: no verb given.\nRun with --help for the verbs and their options.");
    }

    /// <summary>System.CommandLine's messages start with a capital; ours follow "error: ".</summary>
    private static string Lower(string message) =>
        message.Length > 1 && char.IsUpper(message[0]) && !char.IsUpper(message[1]) ? char.ToLowerInvariant(message[0]) + message[1..] : message;

    public async Task<int> RunAsync(IServiceProvider services, TextWriter output, TextWriter errors, CancellationToken cancellationToken = default)
    {
        switch (Verb)
        {
            case "help":
                await output.WriteAsync(HelpText);
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

                    await errors.WriteLineAsync($"Created {Role.ToWire()} key {key.Key.Prefix}… in workspace '{workspace.Name}'. It is shown only once.");
                    await output.WriteLineAsync(Json
                        ? JsonSerializer.Serialize(new { key = key.PlainTextKey, id = key.Key.Id, prefix = key.Key.Prefix, role = Role.ToWire(), workspace = workspace.Name })
                        : key.PlainTextKey);
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
                await errors.WriteLineAsync("error: no verb given. Run with --help for the verbs and their options.");
                return 2;
        }
    }

    private static CommandLine Failed(string message) => new("error", [], []) { Error = message };

}
