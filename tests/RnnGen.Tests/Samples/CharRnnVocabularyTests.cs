using CharRnn;

namespace RnnGen.Tests.Samples;

/// <summary>CharRnn's vocabulary survives its round trip through a checkpoint's metadata, whatever the corpus.</summary>
public class CharRnnVocabularyTests
{
    // A corpus with more than 128 distinct characters, � (U+FFFD) itself among the frequent ones: the rare characters share
    // the id of that �, and the saved vocabulary reads back (it listed � twice, and the checkpoint could not be read).
    [Fact]
    public void AReplacementCharacterInTheCorpus_SharesTheUnknownId()
    {
        string frequent = string.Concat(Enumerable.Range(0x21, 126).Select(c => new string((char)c, 10)));
        string rare = string.Concat(Enumerable.Range(0x100, 20).Select(c => ((char)c).ToString()));
        string corpus = frequent + new string('\uFFFD', 50) + rare;
        Vocabulary vocabulary = Vocabulary.Build(corpus);
        Assert.Equal(Vocabulary.Capacity - 1, vocabulary.Symbols.Count); // the 127 most frequent, � among them
        Assert.Equal(vocabulary.Symbols.Count, vocabulary.Symbols.Distinct().Count());
        Assert.Equal(Vocabulary.UnknownSymbol, vocabulary.Symbols[vocabulary.UnknownId!.Value]);

        var (characters, unknownId) = vocabulary.ToText();
        Vocabulary back = Vocabulary.FromText(characters, unknownId);
        Assert.Equal(vocabulary.Symbols, back.Symbols);
        Assert.Equal(vocabulary.UnknownId, back.UnknownId);
    }

    // Without a � in the corpus, the rarest characters beyond 127 share an id of its own at the end.
    [Fact]
    public void TooManyCharacters_TheRarestShareAnUnknownId()
    {
        string corpus = string.Concat(Enumerable.Range(0x21, 140).Select(c => new string((char)c, 200 - c + 0x21)));
        Vocabulary vocabulary = Vocabulary.Build(corpus);
        Assert.Equal(Vocabulary.Capacity, vocabulary.Symbols.Count);
        Assert.Equal(Vocabulary.Capacity - 1, vocabulary.UnknownId);
        var (characters, unknownId) = vocabulary.ToText();
        Assert.Equal(vocabulary.Symbols, Vocabulary.FromText(characters, unknownId).Symbols);
    }
}
