namespace RnnGen.Tests.Generated;

/// <summary>Weights and work buffers live on the heap: a 512-wide, 4-layer LSTM runs on a thread with a 128 KiB stack.</summary>
public class StackTests
{
    [Fact]
    public void WideDeepLstm_RunsOnASmallStack()
    {
        Exception? failure = null;
        float checksum = 0;
        var thread = new Thread(() =>
        {
            try
            {
                var m = new WideLstm();
                m.InitializeParameters(1);
                var state = new WideLstm.State();
                var tape = new WideLstm.Tape(2);
                var x = Harness.Random<float>(2 * WideLstm.InputSize, 2);
                var y = new float[2 * WideLstm.OutputWidth];
                m.Step(x.AsSpan(0, WideLstm.InputSize), ref state, y.AsSpan(0, WideLstm.OutputWidth));
                m.Forward(x, ref state, tape, y);
                m.Backward(tape, y, new float[x.Length]);
                checksum = y.Sum() + m.Gradients[0];
            }
            catch (Exception e) { failure = e; }
        }, maxStackSize: 128 * 1024);
        thread.Start();
        thread.Join();
        Assert.Null(failure);
        Assert.True(float.IsFinite(checksum));
    }
}

[LstmModel(hidden: 512, layers: 4, Input = 512)]
public partial class WideLstm { }
