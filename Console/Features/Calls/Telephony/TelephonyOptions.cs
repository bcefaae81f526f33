using System.ComponentModel.DataAnnotations;

namespace DeliveryConsole.Features.Calls.Telephony;

/// <summary>Which telephony provider places calls, and how each behaves (section <c>Telephony</c>).</summary>
public sealed class TelephonyOptions : IValidatableObject
{
    public const string Section = "Telephony";

    /// <summary><c>Simulated</c> (embedded, the default) or <c>Http</c>.</summary>
    public string Provider { get; set; } = "Simulated";

    /// <summary>Simulated: seconds a call rings before it is answered or not.</summary>
    [Range(0, 600)]
    public double RingSeconds { get; set; } = 3;

    /// <summary>Simulated: chance that a ringing call is answered (else NO_ANSWER).</summary>
    [Range(0, 1)]
    public double AnswerProbability { get; set; } = 0.85;

    /// <summary>Simulated: an answered call lasts between these many seconds, then completes with a recording.</summary>
    [Range(0, 86400)]
    public double MinDurationSeconds { get; set; } = 20;

    [Range(0, 86400)]
    public double MaxDurationSeconds { get; set; } = 90;

    /// <summary>Simulated: numbers the provider refuses to dial (to try failure handling).</summary>
    public string[] RefuseNumbers { get; set; } = [];

    /// <summary>Http: the provider's base URL; dial, end and join are POSTed below it.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>Http: bearer token sent to the provider.</summary>
    public string? Token { get; set; }

    /// <summary>The bearer token the provider must send to POST /v1/telephony/events; events are refused without one.</summary>
    public string? EventsToken { get; set; }

    /// <summary>Http: how long one provider request may take.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    public bool IsHttp => string.Equals(Provider, "Http", StringComparison.OrdinalIgnoreCase);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (!IsHttp && !string.Equals(Provider, "Simulated", StringComparison.OrdinalIgnoreCase))
        {
            yield return new ValidationResult("Telephony:Provider must be Simulated or Http", [nameof(Provider)]);
        }

        if ((IsHttp || !string.IsNullOrEmpty(BaseUrl)) && !Infrastructure.HttpUrl.IsAbsolute(BaseUrl))
        {
            yield return new ValidationResult(Infrastructure.HttpUrl.Rule("Telephony:BaseUrl", BaseUrl) + (IsHttp ? " (required when Telephony:Provider is Http)" : ""), [nameof(BaseUrl)]);
        }

        if (MaxDurationSeconds < MinDurationSeconds)
        {
            yield return new ValidationResult("Telephony:MaxDurationSeconds must not be below MinDurationSeconds", [nameof(MaxDurationSeconds)]);
        }
    }
}
