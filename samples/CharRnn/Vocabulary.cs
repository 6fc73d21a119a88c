using System.Globalization;
using System.Text;

namespace CharRnn;

/// <summary>
/// Characters ↔ token ids. A model reads and predicts <see cref="Capacity"/> token ids (a compile-time constant, like
/// every size of a generated model); a corpus uses one id per distinct character (a Unicode scalar value, so an emoji
/// is one character). A corpus with more distinct characters keeps the <c>Capacity − 1</c> most frequent ones and maps
/// the rest to one "unknown" id, shown as <see cref="UnknownSymbol"/>. Ids are in code-point order.
/// </summary>
public sealed class Vocabulary
{
    /// <summary>Token ids every model reads and predicts: its <c>Input</c> and <c>Output</c> size.</summary>
    public const int Capacity = 128;

    /// <summary>How the unknown id is printed (U+FFFD REPLACEMENT CHARACTER).</summary>
    public const string UnknownSymbol = "\uFFFD";

    private readonly string[] _symbols;                 // id → the character's text ("\n", "a", "😀", or UnknownSymbol)
    private readonly Dictionary<int, int> _ids;         // code point → id (the unknown id is not in it)

    private Vocabulary(string[] symbols, int? unknownId)
    {
        _symbols = symbols;
        UnknownId = unknownId;
        _ids = new Dictionary<int, int>(symbols.Length);
        for (int id = 0; id < symbols.Length; id++)
        {
            if (id != unknownId) _ids.Add(char.ConvertToUtf32(symbols[id], 0), id);
        }
    }

    /// <summary>Ids in use: 0 … <c>Count − 1</c>. Ids from <c>Count</c> to <see cref="Capacity"/> − 1 are never used.</summary>
    public int Count => _symbols.Length;

    /// <summary>The id that stands for every character outside the vocabulary, or null when there is none.</summary>
    public int? UnknownId { get; }

    /// <summary>The characters, in id order (the unknown id as <see cref="UnknownSymbol"/>).</summary>
    public IReadOnlyList<string> Symbols => _symbols;

    /// <summary>
    /// The top-k to sample with: the ids past the vocabulary start with a head bias of −40 and are never meant to be
    /// drawn, but a high temperature divides that margin down; keeping the <see cref="Count"/> most likely ids (or fewer,
    /// as <paramref name="topK"/> asks; 0 = no other limit) leaves them out.
    /// </summary>
    public int SampledIds(int topK) => Count >= Capacity ? topK : topK == 0 ? Count : Math.Min(topK, Count);

    /// <summary>The vocabulary of <paramref name="text"/>: every distinct character, or the <c>Capacity − 1</c> most frequent
    /// ones plus an unknown id when there are more than <see cref="Capacity"/>.</summary>
    public static Vocabulary Build(string text)
    {
        var counts = new Dictionary<int, long>();
        foreach (Rune rune in text.EnumerateRunes())
            counts[rune.Value] = counts.GetValueOrDefault(rune.Value) + 1;
        if (counts.Count == 0)
            throw new CorpusException("The corpus has no characters.");

        IEnumerable<int> kept = counts.Keys;
        bool truncated = counts.Count > Capacity;
        if (truncated)
            kept = counts.OrderByDescending(c => c.Value).ThenBy(c => c.Key).Take(Capacity - 1).Select(c => c.Key);
        var symbols = kept.Order().Select(char.ConvertFromUtf32).ToList();
        if (!truncated)
            return new Vocabulary([.. symbols], null);
        // a corpus whose kept characters include � itself (U+FFFD) shares that id with the rare ones: they print alike,
        // and a vocabulary must not list a character twice
        int unknown = symbols.IndexOf(UnknownSymbol);
        if (unknown < 0)
        {
            symbols.Add(UnknownSymbol);
            unknown = symbols.Count - 1;
        }
        return new Vocabulary([.. symbols], unknown);
    }

    /// <summary>Restores a vocabulary saved with <see cref="ToText"/>.</summary>
    /// <exception cref="FormatException">The text does not describe a vocabulary.</exception>
    public static Vocabulary FromText(string characters, string unknownId)
    {
        string[] symbols = characters.EnumerateRunes().Select(r => r.ToString()).ToArray();
        int? unknown = unknownId.Length == 0 ? null : int.Parse(unknownId, NumberStyles.None, CultureInfo.InvariantCulture);
        if (symbols.Length is 0 or > Capacity)
            throw new FormatException($"a vocabulary has 1 to {Capacity} characters, this one {symbols.Length}");
        if (unknown is int u && (u >= symbols.Length || symbols[u] != UnknownSymbol))
            throw new FormatException($"the unknown id {u} is not the position of {UnknownSymbol} in the vocabulary");
        if (symbols.Distinct().Count() != symbols.Length)
            throw new FormatException("the vocabulary lists a character twice");
        return new Vocabulary(symbols, unknown);
    }

    /// <summary>The vocabulary as two strings for a model file's metadata: the characters in id order, and the unknown id
    /// (empty when there is none).</summary>
    public (string Characters, string UnknownId) ToText() =>
        (string.Concat(_symbols), UnknownId?.ToString(CultureInfo.InvariantCulture) ?? "");

    /// <summary>Where generated text starts when no prime is given: a new line, or the first character if the text has none.</summary>
    public string DefaultPrime => Contains("\n") ? "\n" : _symbols[0];

    /// <summary>Whether <paramref name="character"/> (one Unicode scalar value) has an id of its own.</summary>
    public bool Contains(string character) => _ids.ContainsKey(char.ConvertToUtf32(character, 0));

    /// <summary>
    /// The token ids of <paramref name="text"/>. Characters outside the vocabulary become the unknown id
    /// (<paramref name="replaced"/> counts them); without an unknown id they are an error that lists them.
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="replaced">How many of its characters became the unknown id.</param>
    /// <param name="subject">What the text is, for the message (such as <c>--prime</c>).</param>
    /// <param name="remedy">What the message tells the user to do about such characters.</param>
    /// <exception cref="CorpusException">The text has characters the vocabulary cannot represent.</exception>
    public int[] Encode(string text, out long replaced, string subject = "The text",
        string remedy = "Use only characters of the corpus the model was trained on.")
    {
        var ids = new List<int>(text.Length);
        var missing = new SortedSet<int>();
        replaced = 0;
        foreach (Rune rune in text.EnumerateRunes())
        {
            if (_ids.TryGetValue(rune.Value, out int id))
            {
                ids.Add(id);
            }
            else if (UnknownId is int unknown)
            {
                ids.Add(unknown);
                replaced++;
            }
            else
            {
                missing.Add(rune.Value);
            }
        }
        if (missing.Count > 0)
        {
            string list = string.Join(" ", missing.Take(20).Select(c => Show(char.ConvertFromUtf32(c))));
            throw new CorpusException(
                $"{subject} has {missing.Count} character(s) that are not in the model's vocabulary: {list}{(missing.Count > 20 ? " …" : "")}. " +
                remedy);
        }
        return [.. ids];
    }

    /// <summary>The text of token <paramref name="id"/> (the unknown symbol for an id the vocabulary does not use).</summary>
    public string Decode(int id) => (uint)id < (uint)_symbols.Length ? _symbols[id] : UnknownSymbol;

    /// <summary>A character as it can be read in a message: <c>'a'</c>, <c>'\n'</c>, <c>U+0007</c>.</summary>
    public static string Show(string character) => character switch
    {
        "\n" => @"'\n'",
        "\t" => @"'\t'",
        "\r" => @"'\r'",
        _ when char.IsControl(character, 0) || char.IsWhiteSpace(character, 0) => $"U+{char.ConvertToUtf32(character, 0):X4}",
        _ => $"'{character}'",
    };
}
