using System.Globalization;
using System.Text.RegularExpressions;

namespace HaLua.DataPlane.Tests.Stats;

/// <summary>One sample of a scrape: its labels (sorted by name) and value.</summary>
internal sealed record Sample(string Name, SortedDictionary<string, string> Labels, double Value)
{
    /// <summary>The labels as <c>{a="1",b="2"}</c>, in name order (independent of the exporter's order).</summary>
    public string LabelText => "{" + string.Join(",", Labels.Select(l => $"{l.Key}=\"{l.Value}\"")) + "}";
}

/// <summary>A metric family of a scrape: <c># HELP</c>, <c># TYPE</c> and its samples.</summary>
internal sealed class Family
{
    public string? Help { get; set; }

    public string? Type { get; set; }

    public List<Sample> Samples { get; } = [];
}

/// <summary>A parser of the Prometheus text format (0.0.4), enough for comparing exporters.</summary>
internal static partial class PrometheusText
{
    public static Dictionary<string, Family> Parse(string text)
    {
        var families = new Dictionary<string, Family>(StringComparer.Ordinal);
        Family Get(string name) => families.TryGetValue(name, out var f) ? f : families[name] = new Family();
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal))
            {
                var parts = line[7..].Split(' ', 2);
                Get(parts[0]).Help = parts.Length > 1 ? parts[1] : "";
            }
            else if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                var parts = line[7..].Split(' ', 2);
                Get(parts[0]).Type = parts[1];
            }
            else if (line.Length > 0 && line[0] != '#')
            {
                var m = SampleLine().Match(line);
                Assert.True(m.Success, $"not a sample line: {line}");
                var labels = new SortedDictionary<string, string>(StringComparer.Ordinal);
                foreach (Match l in Label().Matches(m.Groups["labels"].Value))
                {
                    labels[l.Groups[1].Value] = l.Groups[2].Value;
                }

                string name = m.Groups["name"].Value;
                string family = name.EndsWith("_bucket", StringComparison.Ordinal) || name.EndsWith("_sum", StringComparison.Ordinal) || name.EndsWith("_count", StringComparison.Ordinal)
                    ? FamilyOf(families, name)
                    : name;
                Get(family).Samples.Add(new Sample(name, labels, double.Parse(m.Groups["value"].Value, NumberStyles.Float, CultureInfo.InvariantCulture)));
            }
        }

        return families;
    }

    /// <summary>The value of the sample of <paramref name="name"/> with exactly these labels.</summary>
    public static double Value(Dictionary<string, Family> families, string name, params (string Key, string Value)[] labels)
    {
        if (!families.TryGetValue(name, out var f))
        {
            // A histogram's _bucket, _sum and _count samples belong to its family.
            families.TryGetValue(name[..Math.Max(0, name.LastIndexOf('_'))], out f);
        }

        Assert.True(f is not null, $"no family {name}");
        var sample = f!.Samples.SingleOrDefault(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value) && s.Labels.Count == labels.Length);
        Assert.True(sample is not null, $"no sample {name} with {string.Join(",", labels)}");
        return sample!.Value;
    }

    private static string FamilyOf(Dictionary<string, Family> families, string sampleName)
    {
        int cut = sampleName.LastIndexOf('_');
        string stem = sampleName[..cut];
        return families.ContainsKey(stem) ? stem : sampleName;
    }

    [GeneratedRegex("""^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>[^}]*)\})? (?<value>\S+)$""")]
    private static partial Regex SampleLine();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex Label();
}
