using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using RnnGen.Tests.Models;

namespace RnnGen.Tests.Generated;

/// <summary>
/// <see cref="RecurrentState{T}"/>: its values start on a 64-byte boundary (a step stores h and c as whole vectors and
/// reads them back at once), the h and c views are the documented slices of <see cref="RecurrentState{T}.Values"/>, and
/// Reset / CopyTo act on exactly those values.
/// </summary>
public class StateTests
{
    // The checks generated Step calls are public (hidden from IntelliSense); called directly with no state they name it
    // instead of dereferencing null.
    [Fact]
    public void CheckStepOutput_WithoutAState_ThrowsArgumentNull()
    {
        var e = Assert.Throws<ArgumentNullException>(() => RecurrentState<float>.CheckStepOutput(new float[3], null!, outputIsTopHidden: false));
        Assert.Equal("state", e.ParamName);
    }

    [Fact]
    public void Values_StartOnA64ByteBoundary()
    {
        for (int i = 0; i < 20; i++)   // states land at different addresses
        {
            var state = new LstmF3x5.State();
            Assert.Equal(0L, Address(state.Values) % 64);
        }
    }

    // A state of another shape is refused even when it holds as many values (3 layers of 5 and 1 layer of 15, both with c):
    // the copy would mix the layers' h and c; nothing is written.
    [Fact]
    public void CopyTo_AStateOfAnotherShape_IsRefused()
    {
        var state = new LstmF3x5.State();
        for (int i = 0; i < state.Values.Length; i++) state.Values[i] = i + 1;
        RecurrentState<float> other = new LstmF1x15.State();
        Assert.Equal(state.Values.Length, other.Values.Length);
        var e = Assert.Throws<ArgumentException>(() => state.CopyTo(other));
        Assert.Equal("destination", e.ParamName);
        Assert.Contains("1 layer(s) of 15 units with cell states; this state holds 3 layer(s) of 5 units", e.Message);
        Assert.All(other.Values.ToArray(), v => Assert.Equal(0f, v));
    }

    [Fact]
    public void HiddenAndCell_AreTheDocumentedSlicesOfValues()
    {
        var state = new LstmF3x5.State();   // 3 layers of 5: h0 h1 h2 c0 c1 c2
        for (int i = 0; i < state.Values.Length; i++) state.Values[i] = i;
        for (int layer = 0; layer < 3; layer++)
        {
            Assert.Equal(Enumerable.Range(5 * layer, 5).Select(v => (float)v), state.Hidden(layer).ToArray());
            Assert.Equal(Enumerable.Range(15 + 5 * layer, 5).Select(v => (float)v), state.Cell(layer).ToArray());
        }
        var copy = new LstmF3x5.State();
        state.CopyTo(copy);
        Assert.Equal(state.Values.ToArray(), copy.Values.ToArray());
        state.Reset();
        Assert.All(state.Values.ToArray(), v => Assert.Equal(0f, v));
        Assert.Equal(30, copy.Values.Length);
    }

    /// <summary>The address of a span's first element (the state's buffer is pinned): its byte offset from null.</summary>
    private static long Address(Span<float> span) =>
        (long)Unsafe.ByteOffset(ref Unsafe.NullRef<float>(), ref MemoryMarshal.GetReference(span));
}

/// <summary>As many state values as <see cref="LstmF3x5"/> (30), in one layer.</summary>
[LstmModel(hidden: 15, Input = 3)]
public partial class LstmF1x15 { }
