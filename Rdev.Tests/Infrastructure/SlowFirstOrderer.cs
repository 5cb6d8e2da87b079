using System.Reflection;
using Xunit.Abstractions;

namespace Rdev.Tests.Infrastructure;

/// <summary>
/// Starts the test classes that take longest first. xunit runs a few classes at a time (xunit.runner.json) and the
/// rest wait in its default order, so a slow class that happens to come last (the git attack table takes a minute and
/// a half) used to run alone at the end of the suite while every other slot was idle. Longest first keeps every slot
/// busy until the end. "Longest" is what a class says of itself: Category=Slow first, then classes with more test
/// cases; the serial collection is left where xunit puts it (after the parallel ones).
/// </summary>
public sealed class SlowFirstOrderer : ITestCollectionOrderer
{
    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections
            .Select((collection, index) => (collection, index, weight: Weight(collection)))
            .OrderByDescending(entry => entry.weight)
            .ThenBy(entry => entry.index)
            .Select(entry => entry.collection);

    private static int Weight(ITestCollection collection)
    {
        // A class without an explicit collection gets one named after it: "Test collection for <full class name>".
        const string prefix = "Test collection for ";
        if (collection.CollectionDefinition is not null || !collection.DisplayName.StartsWith(prefix, StringComparison.Ordinal))
        {
            return 0;
        }

        var type = typeof(SlowFirstOrderer).Assembly.GetType(collection.DisplayName[prefix.Length..]);
        if (type is null)
        {
            return 0;
        }

        var methods = type.GetMethods();
        var slow = IsSlow(type) || methods.Any(IsSlow);
        return (slow ? 1_000_000 : 0) + methods.Sum(method => Cases(type, method));
    }

    private static bool IsSlow(MemberInfo member) =>
        member.GetCustomAttributesData().Any(attribute =>
            attribute.AttributeType == typeof(TraitAttribute) &&
            attribute.ConstructorArguments is [{ Value: "Category" }, { Value: "Slow" }]);

    /// <summary>How many cases a test method expands to: its inline rows, the rows of its static member data, or one.</summary>
    private static int Cases(Type type, MethodInfo method)
    {
        if (!method.IsDefined(typeof(FactAttribute)))
        {
            return 0;
        }

        var rows = method.GetCustomAttributes<InlineDataAttribute>().Count();
        foreach (var data in method.GetCustomAttributes<MemberDataAttribute>())
        {
            var source = data.MemberType ?? type;
            var member = (object?)source.GetProperty(data.MemberName, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static)?.GetValue(null)
                ?? source.GetMethod(data.MemberName, BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static, Type.EmptyTypes)?.Invoke(null, null);
            rows += member is System.Collections.IEnumerable items ? items.Cast<object>().Count() : 1;
        }

        return Math.Max(rows, 1);
    }
}
