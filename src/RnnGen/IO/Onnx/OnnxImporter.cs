using System.Numerics;
using Onnx;

namespace RnnGen;

/// <summary>
/// Reads a model's parameters out of an ONNX graph made of one LSTM / GRU / RNN operator per layer and an optional
/// linear head (MatMul [+ Add] or Gemm), checking every structural fact against the model first.
/// </summary>
internal sealed class OnnxImporter
{
    private readonly ModelInfo _info;
    private readonly GraphProto _graph;
    private readonly OnnxSource _source;
    private readonly Dictionary<string, TensorProto> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NodeProto> _producers = new(StringComparer.Ordinal);

    private OnnxImporter(ModelInfo info, GraphProto graph, OnnxSource source)
    {
        _info = info;
        _graph = graph;
        _source = source;
        foreach (TensorProto initializer in graph.Initializer)
            _constants[initializer.Name] = initializer;
        foreach (NodeProto node in graph.Node)
        {
            foreach (string output in node.Output)
                if (output.Length > 0) _producers[output] = node;
            if (node.OpType == "Constant" && IsDefaultDomain(node) && node.Output.Count == 1 &&
                node.Attribute.FirstOrDefault(a => a.Name == "value") is { T: { } value })
                _constants[node.Output[0]] = value;
        }
    }

    /// <summary>The parameters in PyTorch layout, or a <see cref="ModelFileException"/> naming what does not match.</summary>
    public static T[] ReadParameters<T>(ModelInfo info, ModelProto model, OnnxSource source) where T : unmanaged, IFloatingPointIeee754<T>
    {
        GraphProto graph = model.Graph ?? throw source.Fail("the ONNX model has no graph.");
        return new OnnxImporter(info, graph, source).Read<T>();
    }

    private T[] Read<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckInputKind();

        string expected = OnnxFile.OperatorType(_info.Cell);
        var recurrent = new List<NodeProto>();
        foreach (NodeProto node in _graph.Node)
        {
            if (node.OpType is not ("LSTM" or "GRU" or "RNN") || !IsDefaultDomain(node)) continue;
            if (node.OpType != expected)
                throw Mismatch($"the graph has {node.OpType} operator '{node.Name}'; the model's layers are {expected}.");
            recurrent.Add(node);
        }
        if (recurrent.Count != _info.LayerCount)
            throw Mismatch($"the graph has {recurrent.Count} {expected} operator(s), one per layer; the model has {_info.LayerCount} layer(s).");

        var parameters = new T[_info.ParameterCount];
        for (int k = 0; k < recurrent.Count; k++)
            ReadLayer(k, recurrent[k], parameters);
        ReadHead(parameters);
        return parameters;
    }

    // ------------------------------------------------------------------ input
    private void CheckInputKind()
    {
        ValueInfoProto? input = _graph.Input.FirstOrDefault(i => !_constants.ContainsKey(i.Name));
        if (input?.Type?.TensorType is not { } tensor) return; // nothing declared: the weights decide
        var type = (TensorProto.Types.DataType)tensor.ElemType;
        bool tokenIds = type is TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Int32;
        if (_info.Tokens && !tokenIds)
            throw Mismatch($"the graph's input '{input.Name}' is {type} vectors; the model reads token ids (the graph of a token model takes INT64 ids).");
        if (!_info.Tokens && tokenIds)
            throw Mismatch($"the graph's input '{input.Name}' is {type} token ids; the model reads dense vectors (declare it with Tokens = true).");
    }

    // ------------------------------------------------------------------ recurrent layers
    private void ReadLayer<T>(int k, NodeProto node, Span<T> parameters) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int hidden = _info.HiddenSize, gates = _info.GateCount, rows = gates * hidden;
        int inputWidth = k == 0 ? _info.InputSize : hidden;
        string where = $"layer {k} ({node.OpType} node '{node.Name}')";

        if (Attribute(node, "hidden_size") is { } h && h.I != hidden)
            throw Mismatch($"{where} has hidden_size {h.I}; the model's hidden size is {hidden}.");
        if (Attribute(node, "direction") is { } d && d.S.ToStringUtf8() != "forward")
            throw Mismatch($"{where} runs '{d.S.ToStringUtf8()}'; RnnGen layers run forward only.");
        if (Attribute(node, "clip") is not null)
            throw Mismatch($"{where} clips its pre-activations (attribute 'clip'); RnnGen cells do not.");
        if (_info.Cell == CellKind.Lstm && Attribute(node, "input_forget") is { I: not 0 })
            throw Mismatch($"{where} couples its input and forget gates (input_forget = 1); RnnGen's LSTM does not.");
        if (_info.Cell == CellKind.Gru && Attribute(node, "linear_before_reset") is not { I: 1 })
            throw Mismatch($"{where} has linear_before_reset = 0 (reset gate applied to h before R); RnnGen's GRU is PyTorch's, " +
                           "which applies it to R·h + Rb: linear_before_reset must be 1.");
        CheckActivations(node, where);

        string inputName = k == 0 ? (_info.Tokens ? "vocabulary" : "input") : "input = hidden of the layer below";
        string sizes = $"{gates} gate(s) × hidden {hidden}";
        TensorProto w = Constant(node, 1, "W", where, required: true)!;
        TensorProto r = Constant(node, 2, "R", where, required: true)!;
        TensorProto? b = Constant(node, 3, "B", where, required: false);
        CheckShape(w, where + " W", $"{sizes}, {inputName} {inputWidth}", 1, rows, inputWidth);
        CheckShape(r, where + " R", sizes, 1, rows, hidden);
        if (b is not null) CheckShape(b, where + " B", $"[Wb; Rb] of {sizes}", 1, 2 * rows);
        CheckStateInputs(node, where);
        if (_info.Cell == CellKind.Lstm && Constant(node, 7, "P", where, required: false) is { } peepholes)
        {
            CheckShape(peepholes, where + " P", $"peephole weights of 3 gates × hidden {hidden}", 1, 3 * hidden);
            var p = new T[3 * hidden];
            OnnxTensors.Read<T>(peepholes, p, where + " P", _source);
            if (p.Any(v => v != T.Zero))
                throw Mismatch($"{where} has non-zero peephole weights P; RnnGen's LSTM has no peepholes.", peepholes.Name);
        }

        ReadGates(w, Slice(parameters, $"weight_ih_l{k}"), where + " W");
        ReadGates(r, Slice(parameters, $"weight_hh_l{k}"), where + " R");
        if (b is not null)
        {
            var onnx = new T[2 * rows];
            OnnxTensors.Read<T>(b, onnx, where + " B", _source);
            OnnxGateOrder.OnnxToTorch<T>(_info.Cell, onnx.AsSpan(0, rows), Slice(parameters, $"bias_ih_l{k}"));
            OnnxGateOrder.OnnxToTorch<T>(_info.Cell, onnx.AsSpan(rows), Slice(parameters, $"bias_hh_l{k}"));
        } // no B: ONNX's default bias is zero, which the zero-filled result already holds
    }

    private void ReadGates<T>(TensorProto tensor, Span<T> destination, string what) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var onnx = new T[destination.Length];
        OnnxTensors.Read<T>(tensor, onnx, what, _source);
        OnnxGateOrder.OnnxToTorch<T>(_info.Cell, onnx, destination);
    }

    private void CheckActivations(NodeProto node, string where)
    {
        string[] expected = _info.Cell switch
        {
            CellKind.Lstm => ["Sigmoid", "Tanh", "Tanh"],
            CellKind.Gru => ["Sigmoid", "Tanh"],
            _ => [_info.Activation == RnnActivation.Relu ? "Relu" : "Tanh"],
        };
        string[] actual = Attribute(node, "activations") is { } a
            ? a.Strings.Select(s => s.ToStringUtf8()).ToArray()
            : _info.Cell == CellKind.Rnn ? ["Tanh"] : expected; // ONNX's defaults
        if (!actual.SequenceEqual(expected, StringComparer.OrdinalIgnoreCase))
            throw Mismatch($"{where} uses activations [{string.Join(", ", actual)}]; the model needs [{string.Join(", ", expected)}].");
    }

    // ------------------------------------------------------------------ head
    private void ReadHead<T>(Span<T> parameters) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int outputs = _info.OutputSize;
        var heads = _graph.Node.Where(n => n.OpType is "MatMul" or "Gemm" && IsDefaultDomain(n)).ToList();
        if (outputs == 0)
        {
            if (heads.Count > 0)
                throw Mismatch($"the graph has a linear head ({heads[0].OpType} node '{heads[0].Name}'); the model has none (Output = 0).");
            return;
        }
        if (heads.Count == 0)
            throw Mismatch($"the graph has no linear head (no MatMul or Gemm node); the model has a head of {outputs} outputs.");
        if (heads.Count > 1)
            throw Mismatch($"the graph has {heads.Count} MatMul/Gemm nodes; RnnGen's head is one linear layer.");

        NodeProto head = heads[0];
        string where = $"the head ({head.OpType} node '{head.Name}')";
        Span<T> weight = Slice(parameters, "head.weight");
        TensorProto? bias;
        if (head.OpType == "Gemm")
        {
            if (Attribute(head, "transA") is { I: not 0 } || Attribute(head, "alpha") is { F: not 1f } || Attribute(head, "beta") is { F: not 1f })
                throw Mismatch($"{where} has transA, alpha or beta set; RnnGen reads a plain Gemm h·Vᵀ + c.");
            bool transposed = Attribute(head, "transB") is { I: 1 };
            ReadHeadWeight(Constant(head, 1, "B", where, required: true)!, storedAsOutputByHidden: transposed, weight, where);
            bias = Constant(head, 2, "C", where, required: false);
        }
        else
        {
            // MatMul(h, B): B is Vᵀ [Hidden, Output], stored as such or as Transpose(V [Output, Hidden]).
            string b = head.Input.Count > 1 ? head.Input[1] : "";
            if (!_constants.ContainsKey(b) && _producers.TryGetValue(b, out NodeProto? transpose) && transpose.OpType == "Transpose")
            {
                if (Attribute(transpose, "perm") is { } perm && !perm.Ints.SequenceEqual([1L, 0L]))
                    throw Mismatch($"{where} multiplies by a Transpose with perm [{string.Join(", ", perm.Ints)}]; a head weight transposes with [1, 0].");
                ReadHeadWeight(Constant(transpose, 0, "input", where + "'s Transpose", required: true)!, storedAsOutputByHidden: true, weight, where);
            }
            else
                ReadHeadWeight(Constant(head, 1, "B", where, required: true)!, storedAsOutputByHidden: false, weight, where);

            // The bias: the other operand of the Add that consumes the product (no Add: no bias, i.e. zero).
            string product = SingleOutput(head, where);
            NodeProto? add = _graph.Node.FirstOrDefault(n => n.OpType == "Add" && IsDefaultDomain(n) && n.Input.Contains(product));
            bias = add is null ? null : Constant(add, add.Input[0] == product ? 1 : 0, "bias", where + "'s Add", required: true);
            CheckIsGraphOutput(add is null ? product : SingleOutput(add, where + "'s Add"), where);
        }
        if (head.OpType == "Gemm")
            CheckIsGraphOutput(SingleOutput(head, where), where);

        if (bias is not null)
        {
            // [Output], or [1, Output] (a row broadcast over the steps); [Output, 1] would broadcast as a column
            if (!OnnxTensors.HasShape(bias, outputs) && !OnnxTensors.HasShape(bias, 1, outputs))
                throw Mismatch($"{where} has a bias of shape {OnnxTensors.Format(bias.Dims)}; the model needs [{outputs}] or [1, {outputs}] (head.bias).", bias.Name);
            OnnxTensors.Read<T>(bias, Slice(parameters, "head.bias"), where + " bias", _source);
        } // no bias: zero
    }

    private string SingleOutput(NodeProto node, string where) =>
        node.Output.Count == 1 && node.Output[0].Length > 0
            ? node.Output[0]
            : throw Mismatch($"{where} has {node.Output.Count} outputs; it must have one.");

    // The head's result must be what the graph returns: a product or a sum whose result goes nowhere (a renamed or
    // rewired tensor) would otherwise be read as a head without a bias.
    private void CheckIsGraphOutput(string tensor, string where)
    {
        if (!_graph.Output.Any(o => o.Name == tensor))
            throw Mismatch($"{where}: its result '{tensor}' is not an output of the graph; RnnGen reads graphs whose head (its product, " +
                           "plus the bias when there is one) is the graph's output.", tensor);
    }

    // The state inputs of a recurrent node: sequence_lens absent, or an integer input of the graph (RnnGen runs every step);
    // initial_h and initial_c not constants (a fixed state is not part of the model). A misplaced tensor — the node wired
    // differently, or damaged — is refused here rather than read as a layer without a bias.
    private void CheckStateInputs(NodeProto node, string where)
    {
        string lengths = node.Input.Count > 4 ? node.Input[4] : "";
        if (lengths.Length > 0)
        {
            var type = (TensorProto.Types.DataType?)_graph.Input.FirstOrDefault(v => v.Name == lengths)?.Type?.TensorType?.ElemType;
            if (type is not (TensorProto.Types.DataType.Int32 or TensorProto.Types.DataType.Int64) || _constants.ContainsKey(lengths))
                throw Mismatch($"{where}: its sequence_lens input '{lengths}' is not an integer input of the graph; RnnGen reads layers " +
                               "that run every step (no sequence_lens, or one the caller feeds).", lengths);
        }
        for (int i = 5; i < Math.Min(node.Input.Count, 7); i++)
        {
            // a constant zero state (an exporter may fold the default one) is the state RnnGen starts from; any other is not
            // part of the model
            if (node.Input[i].Length > 0 && _constants.TryGetValue(node.Input[i], out TensorProto? state) && !IsZero(state, where))
                throw Mismatch($"{where}: its {(i == 5 ? "initial_h" : "initial_c")} input '{node.Input[i]}' is a non-zero constant; RnnGen's " +
                               "state is the caller's, not part of the model.", node.Input[i]);
        }
    }

    private bool IsZero(TensorProto tensor, string where)
    {
        long count = OnnxTensors.ElementCount(tensor, where + " state", _source);
        if (count > 1 << 24) return false;
        var values = new double[count];
        OnnxTensors.Read<double>(tensor, values, where + " state", _source);
        return values.All(v => v == 0);
    }

    /// <summary>Reads V [Output, Hidden], stored as such or transposed ([Hidden, Output], what MatMul multiplies by).</summary>
    private void ReadHeadWeight<T>(TensorProto tensor, bool storedAsOutputByHidden, Span<T> weight, string where)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int hidden = _info.HiddenSize, outputs = _info.OutputSize;
        long[] expected = storedAsOutputByHidden ? [outputs, hidden] : [hidden, outputs];
        if (!OnnxTensors.HasShape(tensor, expected))
            throw Mismatch($"{where} has a weight of shape {OnnxTensors.Format(tensor.Dims)}" +
                           $" ({(storedAsOutputByHidden ? "[Output, Hidden]" : "[Hidden, Output]")}); the model needs {OnnxTensors.Format(expected)}" +
                           $" (hidden {hidden}, {outputs} outputs).", tensor.Name);
        if (storedAsOutputByHidden)
        {
            OnnxTensors.Read<T>(tensor, weight, where + " weight", _source);
            return;
        }
        var transposed = new T[weight.Length];
        OnnxTensors.Read<T>(tensor, transposed, where + " weight", _source);
        for (int o = 0; o < outputs; o++)
            for (int j = 0; j < hidden; j++)
                weight[o * hidden + j] = transposed[j * outputs + o];
    }

    // ------------------------------------------------------------------ helpers
    private Span<T> Slice<T>(Span<T> parameters, string name) =>
        (_info.Find(name) ?? throw new InvalidOperationException($"The layout of {_info} has no tensor '{name}'.")).Slice(parameters);

    private TensorProto? Constant(NodeProto node, int index, string role, string where, bool required)
    {
        string name = index < node.Input.Count ? node.Input[index] : "";
        if (name.Length == 0)
            return required ? throw Mismatch($"{where} has no {role} input.") : null;
        return _constants.TryGetValue(name, out TensorProto? tensor)
            ? tensor
            : throw Mismatch($"{where}: its {role} input '{name}' is computed in the graph; RnnGen imports weights stored as initializers or Constant nodes.", name);
    }

    private void CheckShape(TensorProto tensor, string what, string meaning, params long[] expected)
    {
        if (!OnnxTensors.HasShape(tensor, expected))
            throw Mismatch($"{what} has shape {OnnxTensors.Format(tensor.Dims)}; the model needs {OnnxTensors.Format(expected)} ({meaning}).", tensor.Name);
    }

    private AttributeProto? Attribute(NodeProto node, string name)
    {
        AttributeProto? found = null;
        foreach (AttributeProto a in node.Attribute)
        {
            if (a.Name != name) continue;
            if (found is not null)
                throw Mismatch($"node '{node.Name}' ({node.OpType}) sets attribute '{name}' twice.");
            found = a;
        }
        return found;
    }

    private static bool IsDefaultDomain(NodeProto node) => node.Domain is "" or "ai.onnx";

    private ModelFileException Mismatch(string detail, string? tensorName = null) =>
        _source.Fail($"the ONNX graph does not match {_info}: {detail}", tensorName);
}
