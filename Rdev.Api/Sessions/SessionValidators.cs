using FluentValidation;
using Rdev.Api.Commands;

namespace Rdev.Api.Sessions;

public sealed class ApprovalDecisionValidator : AbstractValidator<ApprovalDecision>
{
    public ApprovalDecisionValidator()
    {
        RuleFor(d => d.Decision).Must(d => d is "allow" or "deny").WithMessage("decision must be 'allow' or 'deny'.");
        RuleFor(d => d.Message).SafeText(4096);
        RuleFor(d => d.UpdatedInput).Null().When(d => d.Decision == "deny")
            .WithMessage("updated_input applies only to allow.");
        RuleFor(d => d.UpdatedInput).Must(i => i is null || i.ToJsonString().Length <= 1_000_000)
            .WithMessage("updated_input is too large.");
    }
}

public sealed class SessionMessageValidator : AbstractValidator<SessionMessage>
{
    public SessionMessageValidator() => RuleFor(m => m.Text).NotEmpty().SafeText(100_000);
}
