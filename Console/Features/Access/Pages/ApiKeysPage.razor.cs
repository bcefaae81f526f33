using DeliveryConsole.Components.Shared;
using DeliveryConsole.Infrastructure;
using MudBlazor;

namespace DeliveryConsole.Features.Access.Pages;

public partial class ApiKeysPage
{
    private IReadOnlyList<ApiKeyView> _keys = [];
    private Caller? _caller;
    private bool _isAdmin;
    private bool _loaded;
    private DateTime _now;

    protected override async Task OnInitializedAsync()
    {
        _caller = await CurrentCaller.GetAsync();
        _isAdmin = _caller.Can(Role.Admin);
        await LoadAsync();
    }

    private async Task LoadAsync()
    {
        _now = Clock.GetUtcNow().UtcDateTime;
        _keys = _isAdmin ? await Keys.ListAsync(_caller!) : [];
        _loaded = true;
    }

    private async Task CreateAsync()
    {
        var dialog = await Dialogs.ShowAsync<CreateKeyDialog>("Create API key", new DialogOptions { MaxWidth = MaxWidth.Small, FullWidth = true });
        if (await dialog.Result is not { Canceled: false, Data: CreateKeyDialog.Request request })
        {
            return;
        }

        await Snackbar.TryAsync(async () =>
        {
            var created = await Keys.CreateAsync(_caller!, request.Name, request.Role);
            await LoadAsync();
            StateHasChanged();
            await SecretOnceDialog.ShowAsync(Dialogs, "Your new API key", created.PlainTextKey,
                $"\"{created.Key.Name}\", role {created.Key.Role.ToWire()}. Send it as Authorization: Bearer <key>.");
        });
    }

    private async Task RevokeAsync(ApiKeyView key)
    {
        var confirmed = await ConfirmDialog.AskAsync(Dialogs, "Revoke API key?",
            $"Requests with \"{key.Name}\" ({key.Prefix}…) will be refused at once. This cannot be undone.", "Revoke");
        if (confirmed is null)
        {
            return;
        }

        await Snackbar.TryAsync(async () =>
        {
            await Keys.RevokeAsync(_caller!, key.Id);
            Snackbar.Add($"Key {key.Prefix}… revoked.", Severity.Success);
            await LoadAsync();
        });
    }
}
