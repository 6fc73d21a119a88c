using System.Numerics;
using Google.Protobuf;
using Onnx;

namespace RnnGen;

/// <summary>
/// ONNX export and import of any generated model, for running it in ONNX Runtime (or any ONNX engine) and for
/// reading back weights from such a graph.
/// </summary>
/// <remarks>
/// <para><b>The exported graph</b> (opset <see cref="OpsetVersion"/>, IR version <see cref="IrVersion"/>), with
/// <c>L</c> layers of hidden size <c>H</c>, element type FLOAT (or DOUBLE for <see cref="Precision.Double"/> models):</para>
/// <list type="bullet">
/// <item><description>Inputs: <c>input</c> [seq, batch, Input] (token models: INT64 token ids [seq, batch]);
/// <c>h0</c> [L, batch, H] and, for an LSTM, <c>c0</c> [L, batch, H] — PyTorch's <c>h0</c>/<c>c0</c>, layer 0 first.
/// The initial states are required inputs, so a caller can run a whole sequence at once or one step per run,
/// feeding <c>hn</c>/<c>cn</c> back as the next <c>h0</c>/<c>c0</c>.</description></item>
/// <item><description>Outputs: <c>output</c> [seq, batch, OutputWidth] (the head's outputs, or the top layer's h);
/// <c>hn</c> [L, batch, H] and (LSTM) <c>cn</c> [L, batch, H]: the final states.</description></item>
/// <item><description>One ONNX <c>LSTM</c>, <c>GRU</c> or <c>RNN</c> operator per layer (forward, layout 0) with
/// initializers <c>W_l{k}</c> [1, G·H, in], <c>R_l{k}</c> [1, G·H, H] and <c>B_l{k}</c> [1, 2·G·H] = [Wb; Rb].
/// The gate blocks are reordered from PyTorch's order into ONNX's: LSTM i, f, g, o → i, o, f, c; GRU r, z, n →
/// z, r, h with <c>linear_before_reset = 1</c> (PyTorch's GRU applies the reset gate to <c>W_hn·h + b_hn</c>);
/// RNN <c>activations = [Tanh]</c> or <c>[Relu]</c>. <c>h0</c>/<c>c0</c> are <c>Split</c> per layer, each layer's
/// Y [seq, 1, batch, H] is <c>Squeeze</c>d on axis 1 into the next layer's input, and the per-layer final states
/// are <c>Concat</c>enated into <c>hn</c>/<c>cn</c>.</description></item>
/// <item><description>The head: <c>MatMul(h_top, Transpose(head.weight)) + head.bias</c>, with the initializers
/// <c>head.weight</c> [Output, H] and <c>head.bias</c> [Output] in PyTorch's layout.</description></item>
/// <item><description>Token models: <c>OneHot(input, depth = vocabulary, values = [0, 1])</c> feeds layer 0, whose
/// <c>W</c> is then the ordinary <c>weight_ih_l0</c>. This keeps every layer the standard operator, every
/// initializer in the layout other tools expect, and import identical to dense models; the price is a multiply by a
/// one-hot vector (vocabulary × G·H per step) where RnnGen itself looks up a column. ONNX's <c>OneHot</c> also takes
/// what RnnGen refuses: a negative id counts from the end (−1 is the last token) and an id ≥ the vocabulary gives a zero
/// vector, so check ids before they reach the graph. The alternatives are worse:
/// <c>Gather</c> of pre-projected columns would need an identity <c>W</c> of (G·H)² values, or an operator
/// decomposed into MatMuls in a Loop.</description></item>
/// </list>
/// <para><b>Precision.</b> A <see cref="Precision.Double"/> model exports DOUBLE tensors, which is valid ONNX, but ONNX
/// Runtime's CPU provider (1.31) runs LSTM and GRU in float only and has no double RNN kernel. To run a double model there,
/// import its ONNX file into the float twin of the model (import converts, rounding to the nearest float) and export that.</para>
/// <para><b>Import</b> reads weights only, from a graph of that shape: one operator of the model's kind per layer
/// (in node order), a head (MatMul with a [H, Output] or transposed [Output, H] weight, and an Add of the bias to its product or
/// to the product moved unchanged: every output kept at its step, lane and feature, or the last step picked, the outputs on the
/// last axis, along which the bias is added; or a
/// Gemm of a 2-D input, whose <c>transB</c> is read as ONNX Runtime reads it: any non-zero value transposes, its bias its C or, without
/// C, an Add as MatMul's) exactly when the model has one,
/// an integer input exactly for token models. The data path is followed through the operations that only move values,
/// with the meaning of each axis: Identity, a Cast to the same or a wider float (token ids: to INT32 / INT64), and
/// Squeeze, Unsqueeze, Reshape, Flatten or Transpose that add, drop or move axes of size 1, keeping [seq, batch,
/// features] in order (a Reshape's shape may be constant or read from the values' shapes by Shape, Gather, Slice, Concat,
/// Unsqueeze; a number for seq or batch only when the graph's input declares that size, on which alone ONNX Runtime then runs it).
/// Layer 0 must read the graph's input [seq, batch, Input] (a token model's through <c>OneHot</c> of
/// depth Input, values [0, 1]), every other layer the Y of the one below, the head the top layer's Y or Y_h or the last
/// step of them (PyTorch's <c>fc(out[-1])</c>), or Y's steps and lanes merged into rows in that order (<c>fc(out.view(-1, H))</c>:
/// the head maps each row alone; a layer never reads such rows) (<c>fc(h_n[-1])</c> picks the last of the layers' Y_h stacked on axis 0, and a
/// pick of another layer's is refused). The graph's output (the one named <c>output</c>, when the graph has one) is the head's
/// result, or a model without a head the top layer's Y or Y_h (its last step's h; <c>h_n[-1]</c>, not all of <c>h_n</c>), moved unchanged: every value kept at its step, lane and feature (PyTorch's
/// <c>fc(out.view(-1, H)).view(seq, batch, -1)</c>, a size-1 axis added or moved), or its last step picked (<c>fc(out)[-1]</c>,
/// which computes what <c>fc(out[-1])</c> does: the head maps each step alone); a move there that mixes steps, lanes and
/// features, or a pick of another step, is refused. Every walk along the data path counts against a budget linear in the
/// graph's size, so a graph that joins and picks its values again and again is refused in linear time, and a value followed may
/// have at most 32 axes (a Reshape's or Unsqueeze's result of more is refused). A cast that loses values, a
/// Transpose or Reshape that swaps or merges seq and batch, a pick of features or lanes is refused by name. Layer k's
/// initial state must be its own slice of the state inputs (h0[k], c0[k]: the layers' h from one input, their c from
/// another; every layer's, once one layer reads one) or zeros for every layer (an initializer that is also a graph input
/// is the caller's, not zeros), the outputs hn / cn the layers' final states stacked in order; <c>sequence_lens</c> (RnnGen has
/// no per-sequence lengths), <c>layout</c> ≠ 0, a name defined twice and an opset of the default domain outside 7–22
/// (or none) are refused, and so is a graph that is not valid ONNX for its opset, which ONNX Runtime refuses to load: a node
/// in another opset's form (Squeeze's or Unsqueeze's axes as an input before opset 13 or as an attribute from 13, Split's sizes
/// likewise, a Split of opset 18 or later without <c>num_outputs</c> or sizes, Slice's starts as attributes from opset 10), an
/// operator of a later opset, an op type in another case than ONNX's (op types are case-sensitive: <c>relu</c> is none), an
/// RNN's activation in another case (ONNX Runtime reads an LSTM's and a GRU's in any case, an RNN's not), or a
/// node of another domain than the default (<c>""</c> or <c>ai.onnx</c>). Any operation the model does not
/// compute (an activation, a scaling, a normalisation, an embedding <c>Gather</c>, an Add other than the head's bias, an
/// operator of another domain) is refused by name rather than left out, and so is an initial state made from a non-zero
/// constant (a learned one): states come from the graph's inputs or are zeros. Every operator attribute and
/// initializer shape is checked against the model first; a mismatch throws a <see cref="ModelFileException"/>
/// that names it, and the model's parameters are left untouched. Weights may be FLOAT or DOUBLE (converted to the
/// model's precision), in <c>raw_data</c> or the typed fields, as initializers or <c>Constant</c> nodes. A weight initializer that
/// is also listed as a graph input (PyTorch's <c>keep_initializers_as_inputs=True</c>, the default of its older exporters, lists
/// every weight so) is a default the caller may override by feeding that input: import reads the initializer, the value ONNX
/// Runtime uses when the input is not fed (a graph run with other weights fed computes something else). A weight that is a
/// graph input without an initializer is refused. PyTorch's own
/// exporter (<c>torch.onnx.export</c> of <c>nn.LSTM</c> / <c>nn.GRU</c> / <c>nn.RNN</c> + <c>nn.Linear</c>) writes such a graph:
/// its files import with exactly PyTorch's parameters (checked with torch 1.13, opset 14).</para>
/// </remarks>
public static class OnnxFile
{
    /// <summary>The ONNX operator set the export uses (the default domain).</summary>
    public const int OpsetVersion = 14;

    /// <summary>The ONNX IR version the export writes (IR 7 goes with opsets 12–14).</summary>
    public const int IrVersion = 7;

    /// <summary>Name of the graph input holding the sequence: [seq, batch, Input], or INT64 token ids [seq, batch].</summary>
    public const string InputName = "input";

    /// <summary>Name of the graph input holding every layer's initial hidden state, [layers, batch, hidden].</summary>
    public const string InitialHiddenName = "h0";

    /// <summary>Name of the graph input holding every layer's initial cell state, [layers, batch, hidden] (LSTM only).</summary>
    public const string InitialCellName = "c0";

    /// <summary>Name of the graph output holding every step's output, [seq, batch, OutputWidth].</summary>
    public const string OutputName = "output";

    /// <summary>Name of the graph output holding every layer's final hidden state, [layers, batch, hidden].</summary>
    public const string FinalHiddenName = "hn";

    /// <summary>Name of the graph output holding every layer's final cell state, [layers, batch, hidden] (LSTM only).</summary>
    public const string FinalCellName = "cn";

    /// <summary>Writes <paramref name="model"/> as an ONNX model (see the remarks on <see cref="OnnxFile"/>) to <paramref name="destination"/>
    /// and flushes it (as <see cref="SafeTensors"/>' stream overloads do); the stream stays open.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="destination"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="destination"/> is not writable.</exception>
    public static void Export<TModel, T>(IRecurrentModel<TModel, T> model, Stream destination)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        StreamArguments.Writable(destination);
        OnnxExporter.Build<T>(TModel.Info, model.Parameters).WriteTo(destination);
        destination.Flush();
    }

    /// <summary>
    /// Writes <paramref name="model"/> as an ONNX model to the file <paramref name="path"/> (created or replaced), atomically:
    /// the graph goes to a temporary file in the same folder first, so a failure leaves any previous file as it was.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder of <paramref name="path"/> does not exist.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a folder, or the file cannot be written.</exception>
    public static void Export<TModel, T>(IRecurrentModel<TModel, T> model, string path)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        Google.Protobuf.IMessage graph = OnnxExporter.Build<T>(TModel.Info, model.Parameters);
        AtomicFile.Write(path, stream => graph.WriteTo(stream));
    }

    /// <summary>The ONNX model of <paramref name="model"/> as bytes (what <see cref="Export{TModel, T}(IRecurrentModel{TModel, T}, Stream)"/> writes).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    public static byte[] ExportToBytes<TModel, T>(IRecurrentModel<TModel, T> model)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        return OnnxExporter.Build<T>(TModel.Info, model.Parameters).ToByteArray();
    }

    /// <summary>
    /// Reads the weights of an ONNX model (a graph of the shape <see cref="Export{TModel, T}(IRecurrentModel{TModel, T}, Stream)"/>
    /// writes) from <paramref name="source"/> into <paramref name="model"/>'s <c>Parameters</c>, undoing the gate reordering,
    /// and calls <c>ParametersChanged()</c>.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> or <paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not readable.</exception>
    /// <exception cref="ModelFileException">
    /// The stream is not an ONNX model, or its graph does not match the model (operator kind, layer count, hidden size,
    /// activations, head, input kind, initializer shapes, an operation the model does not compute, a move that changes
    /// values or axes, layers, head, output or states wired otherwise, a state made from a non-zero constant,
    /// sequence_lens, layout, a name defined twice, the opset); the message names the difference. The model is unchanged.
    /// </exception>
    public static void Import<TModel, T>(IRecurrentModel<TModel, T> model, Stream source)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        StreamArguments.Readable(source);
        ImportCore(model, source, new OnnxSource(null));
    }

    /// <summary>Reads the weights of the ONNX model in the file <paramref name="path"/> into <paramref name="model"/>; see
    /// <see cref="Import{TModel, T}(IRecurrentModel{TModel, T}, Stream)"/>.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="ModelFileException">The file is not an ONNX model or does not match the model; the model is unchanged.</exception>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a folder, or the file cannot be read.</exception>
    public static void Import<TModel, T>(IRecurrentModel<TModel, T> model, string path)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(path);
        using FileStream stream = AtomicFile.OpenRead(path);
        ImportCore(model, stream, new OnnxSource(path));
    }

    /// <summary>Creates a <typeparamref name="TModel"/> and imports the ONNX model in the file <paramref name="path"/> into it.</summary>
    /// <exception cref="ArgumentException"><paramref name="path"/> is null or empty.</exception>
    /// <exception cref="ModelFileException">The file is not an ONNX model or does not match <typeparamref name="TModel"/>.</exception>
    /// <exception cref="FileNotFoundException">There is no file at <paramref name="path"/>.</exception>
    /// <exception cref="IOException"><paramref name="path"/> is a folder, or the file cannot be read.</exception>
    public static TModel Import<TModel, T>(string path)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TModel model = TModel.Create();
        Import(model, path);
        return model;
    }

    /// <summary>Creates a <typeparamref name="TModel"/> and imports the ONNX model read from <paramref name="source"/> into it.</summary>
    /// <exception cref="ArgumentNullException"><paramref name="source"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="source"/> is not readable.</exception>
    /// <exception cref="ModelFileException">The data is not an ONNX model or does not match <typeparamref name="TModel"/>.</exception>
    public static TModel Import<TModel, T>(Stream source)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TModel model = TModel.Create();
        Import(model, source);
        return model;
    }

    private static void ImportCore<TModel, T>(IRecurrentModel<TModel, T> model, Stream stream, OnnxSource source)
        where TModel : class, IRecurrentModel<TModel, T>
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        ModelProto proto;
        // no graph of this model is larger than its parameters in doubles twice over and the graph's own few megabytes: a
        // longer stream (a damaged length, /dev/urandom, an endless pipe) is refused at that size instead of being read whole
        long limit = Math.Min(int.MaxValue, 2L * TModel.Info.ParameterCount * sizeof(double) + MaxGraphBytes);
        try
        {
            proto = ModelProto.Parser.ParseFrom(CodedInputStream.CreateWithLimits(stream, (int)limit, recursionLimit: 100));
        }
        catch (InvalidProtocolBufferException e) when (e.Message.Contains("too large", StringComparison.Ordinal))
        {
            throw source.Fail($"the data goes on past {limit} bytes, more than an ONNX graph of {typeof(TModel).Name} can hold: it is damaged or is " +
                              "not an ONNX model of this model.", inner: e);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw source.Fail($"the data is not an ONNX model (protobuf: {e.Message}).", inner: e);
        }
        T[] parameters = OnnxImporter.ReadParameters<T>(TModel.Info, proto, source);
        parameters.CopyTo(model.Parameters); // only once everything has been read and checked
        model.ParametersChanged();
    }

    /// <summary>What an ONNX graph of a model may hold besides its parameters (nodes, names, shapes, attributes), at most.</summary>
    private const long MaxGraphBytes = 16L * 1024 * 1024;

    /// <summary>The ONNX operator of a cell kind: <c>LSTM</c>, <c>GRU</c> or <c>RNN</c>.</summary>
    internal static string OperatorType(CellKind cell) => cell switch
    {
        CellKind.Lstm => "LSTM",
        CellKind.Gru => "GRU",
        _ => "RNN",
    };

    internal static string WeightName(int layer) => $"W_l{layer}";

    internal static string RecurrenceName(int layer) => $"R_l{layer}";

    internal static string BiasName(int layer) => $"B_l{layer}";
}
