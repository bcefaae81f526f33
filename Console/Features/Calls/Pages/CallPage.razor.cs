using DeliveryConsole.Components.Shared;
using DeliveryConsole.Features.Access;
using DeliveryConsole.Features.Callbacks;
using DeliveryConsole.Features.Calls.Telephony;
using DeliveryConsole.Features.Deliveries;
using DeliveryConsole.Features.Deliveries.Live;
using DeliveryConsole.Infrastructure;
using Microsoft.AspNetCore.Components;
using MudBlazor;

namespace DeliveryConsole.Features.Calls.Pages;

public sealed partial class CallPage
{
    [Parameter]
    public string Id { get; set; } = "";

    [Inject] private CallService Calls { get; set; } = default!;
    [Inject] private CallbackService Callbacks { get; set; } = default!;
    [Inject] private DeliveryQueries Deliveries { get; set; } = default!;
    [Inject] private CurrentCaller CurrentCaller { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private TimeProvider Clock { get; set; } = default!;

    private Call? _call;

    /// <summary>The call says it has a recording but its file is not there (moved, or a copied database): said so, instead of a player that plays nothing.</summary>
    private bool RecordingMissing => _call is { RecordingStatus: "available" } call && Calls.RecordingFile(call) is null;
    private Callback? _from;
    private IReadOnlyList<Callback> _promised = [];
    private IReadOnlyList<DeliveryRow> _deliveries = [];
    private JoinResult? _join;
    private bool _notFound;
    private bool _busy;
    private bool _canOperate;
    private DateTime _now;
    private Caller _caller = default!;

    protected override async Task OnInitializedAsync()
    {
        _caller = await CurrentCaller.GetAsync();
        _canOperate = _caller.Can(Role.Operator);
        // The call rings, is answered and ends on its own; its events and deliveries follow.
        FollowChanges(_caller.WorkspaceId, TimeSpan.FromSeconds(1), LoadAsync);
    }

    protected override Task OnParametersSetAsync() => LoadAsync();

    private async Task LoadAsync()
    {
        _now = Clock.GetUtcNow().UtcDateTime;
        try
        {
            _call = await Calls.GetAsync(_caller, Id);
        }
        catch (NotFoundException)
        {
            _notFound = true;
            return;
        }

        _from = null;
        if (_call.CallbackId is { } callbackId)
        {
            try
            {
                _from = await Callbacks.GetAsync(_caller, callbackId);
            }
            catch (NotFoundException)
            {
                _from = null;
            }
        }

        _promised = await Callbacks.ListAsync(_caller, null, _call.Id, 50);
        _deliveries = (await Deliveries.PageAsync(_caller, new DeliveryFilter { Search = _call.Id }, DeliverySort.Newest, 0, 20)).Items;
    }

    private async Task EndAsync()
    {
        if (await ConfirmDialog.AskAsync(Dialogs, "End this call?", $"The call to {_call!.ToNumber} is hung up now; call.completed goes to the webhooks.", "End call") is null)
        {
            return;
        }

        _busy = true;
        await Snackbar.TryAsync(async () =>
        {
            _call = await Calls.EndAsync(_caller, _call.Id);
            _join = null;
        }, "Call ended.");
        _busy = false;

        await LoadAsync();
    }

    private async Task JoinAsync()
    {
        _busy = true;
        await Snackbar.TryAsync(async () =>
        {
            _join = await Calls.JoinAsync(_caller, _call!.Id);
        });
        _busy = false;
    }

}
