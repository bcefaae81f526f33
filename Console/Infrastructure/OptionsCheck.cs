using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace DeliveryConsole.Infrastructure;

/// <summary>
/// Checks every option bound at start-up (the ones registered with <c>ValidateOnStart</c>) before
/// anything else runs, and turns a bad one into one line for the operator: the setting's name, the
/// value given and the rule it breaks (exit code 2, no stack trace).
/// </summary>
public static partial class OptionsCheck
{
    /// <summary>Null when every option is valid; otherwise the line to print.</summary>
    public static string? Problem(IServiceProvider services, IConfiguration configuration)
    {
        try
        {
            services.GetService<IStartupValidator>()?.Validate();
            return null;
        }
        catch (OptionsValidationException exception)
        {
            return Describe(exception, configuration);
        }
        catch (AggregateException exception) when (exception.InnerExceptions.FirstOrDefault() is OptionsValidationException first)
        {
            return Describe(first, configuration);
        }
        catch (InvalidOperationException exception) when (ConversionPattern().Match(exception.Message) is { Success: true } match)
        {
            // A value the binder could not read as the option's type at all.
            var path = match.Groups["path"].Value;
            return $"error: {path} = '{configuration[path]}' is not valid: it must be {Expected(match.Groups["type"].Value)}.";
        }
    }

    private static string Describe(OptionsValidationException exception, IConfiguration configuration)
    {
        var section = exception.OptionsType.GetField("Section", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string;
        var failure = exception.Failures.FirstOrDefault() ?? exception.Message;
        if (section is not null && AnnotationPattern().Match(failure) is { Success: true } match)
        {
            var path = $"{section}:{match.Groups["member"].Value}";
            var value = configuration[path];
            return $"error: {path} = {(value is null ? "(not set)" : $"'{value}'")} is not valid: {match.Groups["rule"].Value.TrimEnd('.')}.";
        }

        return $"error: {(section is null ? "" : section + ": ")}{failure}";
    }

    private static string Expected(string type) => type switch
    {
        "System.TimeSpan" => "a duration such as 00:00:30 (hh:mm:ss)",
        "System.Int32" or "System.Int64" => "a whole number",
        "System.Boolean" => "true or false",
        "System.Double" => "a number",
        _ when type.StartsWith("System.Nullable", StringComparison.Ordinal) => "a value of the setting's type or nothing",
        _ => $"a {type.Split('.')[^1]} value",
    };

    // "DataAnnotation validation failed for 'DeliveryOptions' members: 'Timeout' with the error: 'The field Timeout must be between …'."
    [GeneratedRegex("members: '(?<member>[^']+)' with the error: '(?<rule>.*)'\\.?$", RegexOptions.Singleline)]
    private static partial Regex AnnotationPattern();

    // "Failed to convert configuration value 'abc' at 'Delivery:Timeout' to type 'System.TimeSpan'." (older runtimes leave the value out)
    [GeneratedRegex("configuration value (?:'.*' )?at '(?<path>[^']+)' to type '(?<type>[^']+)'", RegexOptions.Singleline)]
    private static partial Regex ConversionPattern();
}
