using System.Buffers;
using System.Text;
using FluentValidation;

namespace Rdev.Api.ClaudeConfig;

/// <summary>
/// Item content (SPEC sections 5 and 7): at most <see cref="MaxBytes"/> bytes of UTF-8, valid Unicode, no NUL, and
/// front matter, when present, that parses. One message per problem, the most useful first.
/// </summary>
public static class ItemContent
{
    /// <summary>256 KiB, counted in UTF-8 bytes as the file will hold them.</summary>
    public const int MaxBytes = 256 * 1024;

    public static string? Problem(string? content)
    {
        if (content is null)
        {
            return "content is required.";
        }

        if (content.Contains('\0'))
        {
            return "content must not contain NUL characters.";
        }

        long bytes = 0;
        var rest = content.AsSpan();
        while (!rest.IsEmpty)
        {
            // A lone surrogate (possible in a .NET string, not in UTF-8) is not text.
            if (Rune.DecodeFromUtf16(rest, out var rune, out var consumed) != OperationStatus.Done)
            {
                return "content must be valid Unicode text (it has an unpaired surrogate).";
            }

            bytes += rune.Utf8SequenceLength;
            rest = rest[consumed..];
        }

        if (bytes > MaxBytes)
        {
            return $"content must be at most {MaxBytes} bytes of UTF-8 (256 KiB); it is {bytes}.";
        }

        return FrontMatter.Parse(content).Error;
    }
}

public sealed class CreateConfigItemRequestValidator : AbstractValidator<CreateConfigItemRequest>
{
    public CreateConfigItemRequestValidator()
    {
        RuleFor(r => r.Name).Must(ItemNames.IsValid).WithMessage("name " + ItemNames.Rule);
        RuleFor(r => r.Content).Custom((content, context) =>
        {
            if (ItemContent.Problem(content) is { } message)
            {
                context.AddFailure(message);
            }
        });
    }
}

public sealed class UpdateConfigItemRequestValidator : AbstractValidator<UpdateConfigItemRequest>
{
    public UpdateConfigItemRequestValidator()
    {
        RuleFor(r => r.Content).Custom((content, context) =>
        {
            if (ItemContent.Problem(content) is { } message)
            {
                context.AddFailure(message);
            }
        });
    }
}
