namespace RnnGen.Tests.Models;

/// <summary><see cref="SeededRandom"/> made with <c>new SeededRandom()</c> is a working generator.</summary>
public class SeededRandomTests
{
    // without a parameterless constructor, new SeededRandom() is the all-zero state, from which xoshiro256** only ever
    // returns 0: NextDouble 0, NextGaussian 0, Shuffle a fixed rotation
    [Fact]
    public void ParameterlessConstructor_IsSeedZero_NotTheAllZeroState()
    {
        var fromNew = new SeededRandom();
        var seeded = new SeededRandom(0);
        ulong first = fromNew.NextUInt64();
        Assert.NotEqual(0UL, first);
        Assert.Equal(seeded.NextUInt64(), first);
        Assert.Equal(seeded.NextDouble(), fromNew.NextDouble());
    }
}
