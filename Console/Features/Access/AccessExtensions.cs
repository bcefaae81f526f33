using DeliveryConsole.Data;
using DeliveryConsole.Infrastructure;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;

namespace DeliveryConsole.Features.Access;

public static class AccessExtensions
{
    private const string SelectorScheme = "BearerOrCookie";

    /// <summary>API keys (Bearer), console users (Identity + cookie), roles and the admin policy.</summary>
    public static IHostApplicationBuilder AddAccess(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<BootstrapOptions>()
            .BindConfiguration(BootstrapOptions.Section)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddSingleton<ApiKeyService>();
        builder.Services.AddSingleton<UserService>();
        builder.Services.AddSingleton<FirstRunPassword>();
        builder.Services.AddSingleton<SignInThrottle>();
        builder.Services.AddSingleton<UserSessions>();
        builder.Services.AddAntiforgery(options =>
        {
            options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            // One cookie for the whole console, whichever /w/{workspace}/ path base a page has.
            options.Cookie.Path = "/";
        });

        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddScoped<AuthenticationStateProvider, RevalidatingAuthenticationStateProvider>();

        builder.Services.AddAuthentication(options =>
            {
                options.DefaultScheme = SelectorScheme;
                options.DefaultChallengeScheme = IdentityConstants.ApplicationScheme;
                options.DefaultSignInScheme = IdentityConstants.ApplicationScheme;
            })
            // A request carrying a bearer token is an API call; anything else is the console's cookie.
            .AddPolicyScheme(SelectorScheme, "API key or console cookie", options =>
                options.ForwardDefaultSelector = http =>
                    http.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                        ? ApiKeyAuthenticationHandler.SchemeName
                        : IdentityConstants.ApplicationScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddIdentityCookies();

        builder.Services.ConfigureApplicationCookie(cookie =>
        {
            cookie.Cookie.Name = "dc_auth";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.Path = "/";
            cookie.Cookie.SameSite = SameSiteMode.Lax;
            // Secure whenever the console is served over https (behind a TLS proxy, forward the scheme).
            cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            cookie.LoginPath = "/account/login";
            cookie.LogoutPath = "/account/logout";
            cookie.AccessDeniedPath = "/account/access-denied";
            cookie.ExpireTimeSpan = UserSessions.Lifetime;
            cookie.SlidingExpiration = true;
            // Every request: the cookie's session must be live (sign-out and password changes end
            // it at once, on every node); then Identity's security stamp check.
            cookie.Events.OnValidatePrincipal = async context =>
            {
                if (await UserSessions.ValidateAsync(context))
                {
                    await SecurityStampValidator.ValidatePrincipalAsync(context);
                }
            };
        });
        builder.Services.Configure<SecurityStampValidatorOptions>(options =>
        {
            options.ValidationInterval = TimeSpan.FromMinutes(1);
            // The refreshed cookie keeps naming its session.
            options.OnRefreshingPrincipal = context =>
            {
                if (context.CurrentPrincipal?.FindFirst(UserSessions.Claim) is { } session && context.NewPrincipal?.Identity is System.Security.Claims.ClaimsIdentity identity)
                {
                    identity.AddClaim(new System.Security.Claims.Claim(UserSessions.Claim, session.Value));
                }

                return Task.CompletedTask;
            };
        });

        builder.Services.AddIdentityCore<ApplicationUser>(options =>
            {
                options.User.RequireUniqueEmail = true;
                options.Password.RequiredLength = 10;
                options.Password.RequireNonAlphanumeric = false;
                // No account lockout: a stranger could keep anyone locked out. Sign-in is throttled
                // instead, per address and per account from each address, with growing delays (SignInThrottle).
                options.Lockout.AllowedForNewUsers = false;
            })
            .AddEntityFrameworkStores<AppDbContext>()
            .AddSignInManager()
            .AddClaimsPrincipalFactory<AppClaimsPrincipalFactory>()
            .AddDefaultTokenProviders();

        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(BackgroundJobs.DashboardPolicy, policy => policy
                .AddAuthenticationSchemes(IdentityConstants.ApplicationScheme)
                .RequireAuthenticatedUser()
                // The jobs of every workspace: platform staff admins only.
                .RequireClaim(Workspaces.WorkspaceRouting.StaffClaim, Role.Admin.ToWire()));

        // Endpoint secrets and sign-in cookies are encrypted with these keys. On SQLite they live
        // beside the database; on PostgreSQL in it, so every node reads what another wrote.
        var database = DatabaseExtensions.DatabaseOptionsOf(builder.Configuration);
        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("DeliveryConsole");
        if (database.IsPostgres)
        {
            dataProtection.PersistKeysToDbContext<AppDbContext>();
        }
        else
        {
            dataProtection.PersistKeysToFileSystem(new DirectoryInfo(Path.Combine(database.DataFolder, "keys")));
        }

        return builder;
    }

    public static IEndpointRouteBuilder MapAccess(this IEndpointRouteBuilder routes)
    {
        routes.MapApiKeyApi();

        routes.MapPost("/account/logout", SignOutAsync).ExcludeFromDescription();
        return routes;
    }

    /// <summary>
    /// Sign-out, only from the console's own form (its antiforgery token): a page elsewhere that
    /// posts here changes nothing. The session ends on the server, so a copy of the cookie is
    /// refused too, and the browser's cookie is removed.
    /// </summary>
    private static async Task<IResult> SignOutAsync(HttpContext http, IAntiforgery antiforgery, UserSessions sessions, SignInManager<ApplicationUser> signIn)
    {
        bool valid;
        try
        {
            valid = await antiforgery.IsRequestValidAsync(http);
        }
        catch (Exception exception) when (exception is AntiforgeryValidationException or InvalidDataException or BadHttpRequestException)
        {
            // A form that cannot even be read (NUL characters, too large): no token either.
            valid = false;
        }

        if (!valid)
        {
            return TypedResults.Text("This sign-out did not come from the console's own page, so nothing was changed. Use the account menu's Sign out.",
                "text/plain", statusCode: StatusCodes.Status400BadRequest);
        }

        if (http.User.FindFirst(UserSessions.Claim)?.Value is { } session)
        {
            await sessions.EndAsync(session, "signed_out", http.RequestAborted);
        }

        await signIn.SignOutAsync();
        return TypedResults.LocalRedirect("~/account/login");
    }
}
