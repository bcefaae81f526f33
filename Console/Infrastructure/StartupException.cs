namespace DeliveryConsole.Infrastructure;

/// <summary>A start-up problem the operator can fix (a bad path, a bad option); printed as one line, exit code 2.</summary>
public sealed class StartupException(string message) : Exception(message);
