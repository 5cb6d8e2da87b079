using FluentValidation;
using Microsoft.Extensions.Options;

namespace Rdev.Api.Commands;

internal static class TextRules
{
    /// <summary>No NUL (it cannot cross an exec boundary intact) and no lone UTF-16 surrogate (not valid Unicode).</summary>
    public static IRuleBuilderOptions<T, string?> SafeText<T>(this IRuleBuilder<T, string?> rule, int maxLength) =>
        rule.MaximumLength(maxLength)
            .Must(value => value is null || !value.Contains('\0')).WithMessage("{PropertyName} must not contain NUL characters.")
            .Must(value => value is null || !StorableText.HasLoneSurrogate(value))
            .WithMessage("{PropertyName} must be valid Unicode text.");

    /// <summary>A value that follows an option on a command line: it must not be taken for another option.</summary>
    public static IRuleBuilderOptions<T, string?> OptionValue<T>(this IRuleBuilder<T, string?> rule, int maxLength, string pattern) =>
        rule.SafeText(maxLength)
            .Matches(pattern).WithMessage("{PropertyName} has characters that are not allowed.")
            .Must(value => value is null || !value.StartsWith('-')).WithMessage("{PropertyName} must not start with '-'.");

    public static IRuleBuilderOptions<T, int?> Timeout<T>(this IRuleBuilder<T, int?> rule, CommandOptions options) =>
        rule.InclusiveBetween(1, options.MaxTimeoutSeconds);
}

public sealed class ClaudeRequestValidator : AbstractValidator<ClaudeRequest>
{
    public static readonly string[] PermissionModes = ["default", "acceptEdits", "bypassPermissions", "plan"];

    public ClaudeRequestValidator(IOptions<CommandOptions> options)
    {
        RuleFor(r => r.Prompt).NotEmpty().SafeText(100_000);
        RuleFor(r => r.SessionId).OptionValue(128, "^[A-Za-z0-9_-]+$");
        RuleFor(r => r.Continue).Must(c => c != true).When(r => r.SessionId is not null)
            .WithMessage("Use either session_id or continue, not both.");
        RuleFor(r => r.Model).OptionValue(100, @"^[A-Za-z0-9._:\[\]-]+$");
        RuleFor(r => r.MaxTurns).InclusiveBetween(1, 1000);
        RuleFor(r => r.MaxBudgetUsd).GreaterThan(0).LessThanOrEqualTo(10_000);
        RuleFor(r => r.PermissionMode).Must(m => m is null || PermissionModes.Contains(m))
            .WithMessage($"permission_mode must be one of: {string.Join(", ", PermissionModes)}.");
        RuleFor(r => r.AllowedTools).Must(t => t is null || t.Length <= 100).WithMessage("At most 100 allowed_tools.");
        RuleForEach(r => r.AllowedTools).NotEmpty().OptionValue(200, @"^[A-Za-z0-9_().:*,/ @=-]+$");
        RuleFor(r => r.TimeoutSeconds).Timeout(options.Value);
        RuleFor(r => r.Fork).Must(f => f != true).When(r => r.SessionId is null && r.Continue != true)
            .WithMessage("fork needs session_id (or continue): it branches an existing conversation.");
        RuleFor(r => r.IdleTimeoutSeconds).InclusiveBetween(1, 86_400);
        RuleFor(r => r.IdleTimeoutSeconds).Null().When(r => r.KeepOpen != true)
            .WithMessage("idle_timeout_seconds applies only with keep_open.");
    }
}

public sealed class GitRequestValidator : AbstractValidator<GitRequest>
{
    public GitRequestValidator(IOptions<CommandOptions> options)
    {
        RuleFor(r => r.Args).NotEmpty().Must(a => a is null || a.Length <= 64).WithMessage("At most 64 args.");
        RuleForEach(r => r.Args).NotNull().SafeText(4096);
        RuleFor(r => r.Args).Must(a => GitArguments.Check(a) is null)
            .When(r => r.Args is { Length: > 0 } && r.Args.All(a => a is not null))
            .WithMessage(r => GitArguments.Check(r.Args)!);
        RuleFor(r => r.TimeoutSeconds).Timeout(options.Value);
    }
}

public sealed class ShellRequestValidator : AbstractValidator<ShellRequest>
{
    public ShellRequestValidator(IOptions<CommandOptions> options)
    {
        RuleFor(r => r.Command).NotEmpty().SafeText(16_384);
        RuleFor(r => r.TimeoutSeconds).Timeout(options.Value);
    }
}
