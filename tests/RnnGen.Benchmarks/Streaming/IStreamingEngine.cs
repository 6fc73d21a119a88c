namespace RnnGen.Benchmarks.Streaming;

/// <summary>
/// One way of running a recurrent model in streaming mode: batch 1, the same input vector fed every step, the state
/// carried from call to call. The benchmark calls <see cref="Step"/>; the set-up calls the rest to check, before
/// anything is timed, that the engine computes what RnnGen computes (same weights, same equations).
/// </summary>
internal interface IStreamingEngine : IDisposable
{
    /// <summary>Time steps one <see cref="Step"/> runs (1, or a whole sequence for the one-call-per-sequence rows).</summary>
    int StepsPerCall { get; }

    /// <summary>Sets every layer's state to zeros.</summary>
    void Reset();

    /// <summary>Runs <see cref="StepsPerCall"/> steps and returns one value of the last output (so nothing is optimised away).</summary>
    float Step();

    /// <summary>The whole output of the last step run (of every stream, stream after stream, for a batch); may allocate (set-up only).</summary>
    float[] LastOutput();
}
