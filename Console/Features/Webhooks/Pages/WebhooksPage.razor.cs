using DeliveryConsole.Components.Shared;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Deliveries.Engine;
using DeliveryConsole.Features.Deliveries.Live;
using DeliveryConsole.Infrastructure;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace DeliveryConsole.Features.Webhooks.Pages;

public sealed partial class WebhooksPage
{
    [Inject] private EndpointService Endpoints { get; set; } = default!;
    [Inject] private WebhookTestService Tests { get; set; } = default!;
    [Inject] private ApplicationService Applications { get; set; } = default!;
    [Inject] private CampaignService Campaigns { get; set; } = default!;
    [Inject] private CurrentCaller CurrentCaller { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;

    private IReadOnlyList<EndpointOverview> _items = [];
    private readonly Dictionary<Guid, WebhookTestState> _tests = [];
    private bool _loading = true;
    private bool _isAdmin;
    private bool _canTest;
    private DateTime _now;
    private Caller _caller = default!;

    protected override async Task OnInitializedAsync()
    {
        _caller = await CurrentCaller.GetAsync();
        _isAdmin = _caller.Role >= Role.Admin;
        _canTest = _caller.Role >= Role.Operator;
        await LoadAsync();
        // Success rates and failure streaks move as deliveries finish.
        FollowChanges(_caller.WorkspaceId, TimeSpan.FromSeconds(2), LoadAsync);
    }

    private async Task LoadAsync()
    {
        _now = Clock.GetUtcNow().UtcDateTime;
        _items = await Endpoints.OverviewAsync(_caller);
        _loading = false;
    }

    private static string ScopeText(EndpointScope scope) => scope switch
    {
        EndpointScope.Master => "workspace",
        EndpointScope.Application => "application",
        _ => "campaign",
    };

    private static Color RateColor(double rate) => rate >= 0.99 ? Color.Success : rate >= 0.9 ? Color.Warning : Color.Error;

    private async Task CreateAsync()
    {
        var applications = (await Applications.ListAsync(_caller)).Where(a => a.FinishedUrl is null).ToList();
        var campaigns = await Campaigns.ListAsync(_caller);
        var hasMaster = _items.Any(i => i.Endpoint.Scope == EndpointScope.Master);
        EndpointWithSecret? created = null;
        await EndpointDialog.ShowAsync(Dialogs, null, hasMaster, applications, campaigns, async form =>
        {
            try
            {
                created = await Endpoints.CreateAsync(_caller, form);
                return null;
            }
            catch (AppException e)
            {
                return e.Message;
            }
        });
        if (created is not null)
        {
            await LoadAsync();
            await SecretOnceDialog.ShowAsync(Dialogs, "Signing secret", created.Secret,
                $"Deliveries to {created.Endpoint.Url} are signed with this secret (Standard Webhooks, webhook-signature header).", hashed: false);
        }
    }

    private async Task EditAsync(EndpointOverview row)
    {
        var saved = await EndpointDialog.ShowAsync(Dialogs, row.Endpoint, true, [], [], async form =>
        {
            try
            {
                await Endpoints.UpdateAsync(_caller, row.Endpoint.Id, form.Url, form.EventTypes);
                return null;
            }
            catch (AppException e)
            {
                return e.Message;
            }
        });
        if (saved)
        {
            Snackbar.Add("Endpoint saved.", Severity.Success);
            await LoadAsync();
        }
    }

    private async Task RotateAsync(EndpointOverview row)
    {
        if (await RotateSecretDialog.RunAsync(Dialogs, row.Endpoint.Url, grace => Snackbar.TryAsync(() => Endpoints.RotateSecretAsync(_caller, row.Endpoint.Id, grace))))
        {
            await LoadAsync();
        }
    }

    private async Task SetEnabledAsync(EndpointOverview row, bool enabled)
    {
        if (!enabled && await ConfirmDialog.AskAsync(Dialogs, "Disable endpoint?",
                $"Nothing is sent to {row.Endpoint.Url} while it is disabled; deliveries due meanwhile fail with “endpoint disabled”.", "Disable") is null)
        {
            return;
        }

        await RunAsync(async () =>
        {
            await Endpoints.SetEnabledAsync(_caller, row.Endpoint.Id, enabled);
            Snackbar.Add(enabled ? "Endpoint enabled." : "Endpoint disabled.", Severity.Success);
        });
    }

    private async Task DeleteAsync(EndpointOverview row)
    {
        if (await ConfirmDialog.AskAsync(Dialogs, "Delete endpoint?",
                $"{row.Endpoint.Url} ({row.OwnerName}) stops receiving deliveries; its pending deliveries fail. Its history stays in the inspector.",
                "Delete") is null)
        {
            return;
        }

        await RunAsync(async () =>
        {
            await Endpoints.DeleteAsync(_caller, row.Endpoint.Id);
            _tests.Remove(row.Endpoint.Id);
            Snackbar.Add("Endpoint deleted.", Severity.Success);
        });
    }

    private async Task SendTestAsync(EndpointOverview row)
    {
        var id = row.Endpoint.Id;
        _tests[id] = new WebhookTestState(true, null, null);
        try
        {
            var result = await Tests.SendTestAsync(_caller, id);
            _tests[id] = new WebhookTestState(false, result, null);
        }
        catch (AppException e)
        {
            _tests[id] = new WebhookTestState(false, null, e.Message);
        }

        await LoadAsync();
    }

    /// <summary>Runs an action, shows its refusal as a message, and reloads the list either way.</summary>
    private async Task RunAsync(Func<Task> action)
    {
        await Snackbar.TryAsync(action);
        await LoadAsync();
    }

}
