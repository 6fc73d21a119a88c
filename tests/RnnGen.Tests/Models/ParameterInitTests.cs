namespace RnnGen.Tests.Models;

/// <summary><see cref="ParameterInit.Uniform{T}"/>: U(−bound, bound), and a bound that is no bound is refused.</summary>
public class ParameterInitTests
{
    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(-0.5)]
    public void Uniform_RefusesABoundThatIsNotFiniteAndNonNegative(double bound)
    {
        var values = new float[4];
        Assert.Equal("bound", Assert.Throws<ArgumentOutOfRangeException>(() => ParameterInit.Uniform<float>(values, bound, seed: 1)).ParamName);
        Assert.All(values, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void Uniform_StaysWithinTheBound_AndRepeats()
    {
        var values = new double[1000];
        var again = new double[1000];
        ParameterInit.Uniform<double>(values, 0.25, seed: 3);
        ParameterInit.Uniform<double>(again, 0.25, seed: 3);
        Assert.All(values, v => Assert.InRange(v, -0.25, 0.25));
        Assert.Equal(values, again);
        ParameterInit.Uniform<double>(values, 0, seed: 3);
        Assert.All(values, v => Assert.Equal(0.0, Math.Abs(v)));
    }
}
