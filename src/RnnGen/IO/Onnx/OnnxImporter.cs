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
        CheckOperators();

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
            ReadLayer(k, recurrent[k], k > 0 ? recurrent[k - 1] : null, parameters);
        ReadHead(recurrent[^1], parameters);
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

    // ------------------------------------------------------------------ what the graph computes
    // Operations that only carry values along — between the layers, into the states, around the head's weight — and
    // compute nothing a model would have to: an exporter's plumbing. Every other node must be a layer, the head (its
    // product and bias Add) or a token model's OneHot; any other operation (an activation, a normalisation, a scaling, an
    // embedding) would be silently left out of the imported model, so it is refused.
    private static readonly HashSet<string> Plumbing = new(StringComparer.Ordinal)
    {
        "Constant", "Identity", "Cast", "Squeeze", "Unsqueeze", "Reshape", "Flatten", "Transpose", "Slice", "Split", "Concat", "Gather",
        "Shape", "ConstantOfShape", "Expand",
    };

    private void CheckOperators()
    {
        var produced = new HashSet<string>(StringComparer.Ordinal);
        foreach (NodeProto node in _graph.Node)
        {
            foreach (string output in node.Output)
                if (output.Length > 0 && !produced.Add(output))
                    throw Mismatch($"the tensor '{output}' is the output of two nodes; an ONNX graph computes each tensor once.", output);
            if (!IsDefaultDomain(node))
                throw Mismatch($"node '{node.Name}' is a {node.OpType} of the domain '{node.Domain}'; RnnGen reads operators of the default ONNX domain.");
            bool known = node.OpType is "LSTM" or "GRU" or "RNN" or "MatMul" or "Gemm" or "Add"
                         || (node.OpType == "OneHot" && _info.Tokens) || Plumbing.Contains(node.OpType);
            if (!known)
                throw Mismatch($"the graph has a {node.OpType} node '{node.Name}', which {_info} does not compute; RnnGen reads graphs of " +
                               "one recurrent operator per layer, an optional linear head (MatMul + Add, or Gemm) and the shape operations " +
                               "between them (an exported RnnGen or PyTorch nn.LSTM / nn.GRU / nn.RNN with an nn.Linear).");
        }
    }

    // The node that computes `tensor`, looking through the operations that only move its values (Identity, Cast, Squeeze,
    // Unsqueeze, Reshape, a Transpose that keeps the last axis, the features, last); null when it is a graph input or a
    // constant.
    private NodeProto? Source(ref string tensor)
    {
        for (int hops = 0; hops <= _graph.Node.Count; hops++)
        {
            if (_constants.ContainsKey(tensor) || !_producers.TryGetValue(tensor, out NodeProto? node))
                return null;
            bool moves = node.OpType is "Identity" or "Cast" or "Squeeze" or "Unsqueeze" or "Reshape"
                         || (node.OpType == "Transpose" && Attribute(node, "perm") is { } perm && perm.Ints.Count > 0 && perm.Ints[^1] == perm.Ints.Count - 1);
            if (!moves || node.Input.Count == 0)
                return node;
            tensor = node.Input[0];
        }
        throw Mismatch($"the tensor '{tensor}' depends on itself; an ONNX graph has no cycles.", tensor);
    }

    private bool IsGraphInput(string tensor) => !_constants.ContainsKey(tensor) && _graph.Input.Any(i => i.Name == tensor);

    // Layer k's X must be the graph's input (a token model's through OneHot of depth Input, values [0, 1]) for k = 0, and
    // the Y of layer k − 1 above it: the layers in the graph's order are the model's stack.
    private void CheckLayerInput(int k, NodeProto node, NodeProto? below, string where)
    {
        string x = node.Input.Count > 0 ? node.Input[0] : "";
        if (x.Length == 0)
            throw Mismatch($"{where} has no input X.");
        string from = x;
        NodeProto? source = Source(ref from);
        if (below is not null)
        {
            if (source != below || below.Output.Count == 0 || below.Output[0] != from)
                throw Mismatch($"{where}: its input X '{x}' is {Describe(source, from)}, not the output Y of layer {k - 1} " +
                               $"({below.OpType} node '{below.Name}'); RnnGen's layers are a stack, each reading the one below.", x);
            return;
        }
        if (!_info.Tokens)
        {
            if (source is not null || !IsGraphInput(from))
                throw Mismatch($"{where}: its input X '{x}' is {Describe(source, from)}, not an input of the graph; RnnGen's first layer reads the model's input.", x);
            return;
        }
        if (source is not { OpType: "OneHot" } oneHot)
            throw Mismatch($"{where}: its input X '{x}' is {Describe(source, from)}; a token model's first layer reads OneHot(ids, depth {_info.InputSize}, values [0, 1]).", x);
        string ids = oneHot.Input.Count > 0 ? oneHot.Input[0] : "";
        NodeProto? idsSource = Source(ref ids);
        if (idsSource is not null || !IsGraphInput(ids))
            throw Mismatch($"the OneHot node '{oneHot.Name}' encodes {Describe(idsSource, ids)}, not an input of the graph.", ids);
        string oneHotWhere = $"the OneHot node '{oneHot.Name}'";
        if (Attribute(oneHot, "axis") is { } axis && axis.I != -1)
            throw Mismatch($"{oneHotWhere} has axis {axis.I}; the one-hot vectors of a token model are its last axis (-1).");
        TensorProto depthTensor = Constant(oneHot, 1, "depth", oneHotWhere, required: true)!;
        double depth = OnnxTensors.ReadScalar(depthTensor, oneHotWhere + " depth", _source);
        if (depth != _info.InputSize)
            throw Mismatch($"{oneHotWhere} has depth {depth}; the model's vocabulary is {_info.InputSize}.", depthTensor.Name);
        TensorProto valuesTensor = Constant(oneHot, 2, "values", oneHotWhere, required: true)!;
        if (OnnxTensors.ElementCount(valuesTensor, oneHotWhere + " values", _source) != 2)
            throw Mismatch($"{oneHotWhere} has {OnnxTensors.Format(valuesTensor.Dims)} values; it must have two, [0, 1].", valuesTensor.Name);
        double[] values = OnnxTensors.ReadNumbers(valuesTensor, 2, oneHotWhere + " values", _source); // float, or int (F.one_hot)
        if (values[0] != 0 || values[1] != 1)
            throw Mismatch($"{oneHotWhere} has values [{values[0]}, {values[1]}]; a token model's one-hot vectors are [0, 1] (off, on).", valuesTensor.Name);
    }

    // Whether `tensor` is the top layer's Y or Y_h, or steps or lanes of them picked by Slice, Gather or Flatten (a PyTorch
    // head on out[-1] or h_n[-1]); h_n of several layers is the Concat of their Y_h, of which the pick must be the last.
    private bool ReadsTopLayer(string tensor, NodeProto top, out string reason)
    {
        for (int hops = 0; hops <= _graph.Node.Count; hops++)
        {
            string from = tensor;
            NodeProto? source = Source(ref from);
            if (source == top && (top.Output.Count > 0 && top.Output[0] == from || top.Output.Count > 1 && top.Output[1] == from))
            {
                reason = "";
                return true;
            }
            if (source is not { OpType: "Slice" or "Gather" or "Flatten" } pick || pick.Input.Count == 0)
            {
                reason = Describe(source, from);
                return false;
            }
            string data = pick.Input[0], stacked = data;
            if (Source(ref stacked) is { OpType: "Concat" } concat && pick.OpType != "Flatten")
            {
                // the layers' states stacked: the pick along their axis must be the last of them
                if (concat.Input.Count == 0 || PickedIndex(pick, concat.Input.Count) != concat.Input.Count - 1)
                {
                    reason = $"a pick by the {pick.OpType} node '{pick.Name}' of other than the last of the states the Concat node '{concat.Name}' stacks";
                    return false;
                }
                tensor = concat.Input[^1];
                continue;
            }
            tensor = data; // steps (or lanes) of Y or Y_h
        }
        reason = "computed in a cycle";
        return false;
    }

    // The index a Gather or Slice picks along axis 0 of `count` stacked values (normalised from the end), or -1 when it
    // picks along another axis, more than one, or by values computed in the graph.
    private int PickedIndex(NodeProto pick, int count)
    {
        try
        {
            if (pick.OpType == "Gather")
            {
                if (Attribute(pick, "axis") is { I: not 0 } || pick.Input.Count < 2 || !_constants.TryGetValue(pick.Input[1], out TensorProto? indices)) return -1;
                double index = OnnxTensors.ReadScalar(indices, $"the Gather node '{pick.Name}' indices", _source);
                return (int)(index < 0 ? index + count : index);
            }
            // Slice(data, starts, ends[, axes[, steps]]): one axis, 0, a slice one value wide
            if (pick.Input.Count < 3 || !_constants.TryGetValue(pick.Input[1], out TensorProto? starts) || !_constants.TryGetValue(pick.Input[2], out TensorProto? ends))
                return -1;
            if (pick.Input.Count > 3 && pick.Input[3].Length > 0
                && (!_constants.TryGetValue(pick.Input[3], out TensorProto? axes) || OnnxTensors.ReadScalar(axes, $"the Slice node '{pick.Name}' axes", _source) != 0))
                return -1;
            double start = OnnxTensors.ReadScalar(starts, $"the Slice node '{pick.Name}' starts", _source);
            double end = OnnxTensors.ReadScalar(ends, $"the Slice node '{pick.Name}' ends", _source);
            int first = (int)(start < 0 ? start + count : Math.Min(start, count));
            double last = end < 0 ? end + count : Math.Min(end, count);
            return last - first == 1 ? first : -1;
        }
        catch (ModelFileException)
        {
            return -1;
        }
    }

    private static string Describe(NodeProto? source, string tensor) =>
        source is null ? $"'{tensor}'" : $"computed by the {source.OpType} node '{source.Name}'";

    // ------------------------------------------------------------------ recurrent layers
    private void ReadLayer<T>(int k, NodeProto node, NodeProto? below, Span<T> parameters) where T : unmanaged, IFloatingPointIeee754<T>
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
        CheckLayerInput(k, node, below, where);

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
    private void ReadHead<T>(NodeProto top, Span<T> parameters) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int outputs = _info.OutputSize;
        var heads = _graph.Node.Where(n => n.OpType is "MatMul" or "Gemm" && IsDefaultDomain(n)).ToList();
        if (outputs == 0)
        {
            if (heads.Count > 0)
                throw Mismatch($"the graph has a linear head ({heads[0].OpType} node '{heads[0].Name}'); the model has none (Output = 0).");
            CheckNoOtherAdd(null);
            return;
        }
        if (heads.Count == 0)
            throw Mismatch($"the graph has no linear head (no MatMul or Gemm node); the model has a head of {outputs} outputs.");
        if (heads.Count > 1)
            throw Mismatch($"the graph has {heads.Count} MatMul/Gemm nodes; RnnGen's head is one linear layer.");

        NodeProto head = heads[0];
        string where = $"the head ({head.OpType} node '{head.Name}')";
        // it multiplies the top layer's h: its Y (every step) or Y_h (the last), or steps or lanes picked from them
        string a = head.Input.Count > 0 ? head.Input[0] : "";
        if (!ReadsTopLayer(a, top, out string reason))
            throw Mismatch($"{where} multiplies '{a}', which is {reason}, not the output of the top layer ({top.OpType} node " +
                           $"'{top.Name}'); RnnGen's head reads the top layer's h.", a);
        Span<T> weight = Slice(parameters, "head.weight");
        TensorProto? bias;
        if (head.OpType == "Gemm")
        {
            if (Attribute(head, "transA") is { I: not 0 } || Attribute(head, "alpha") is { F: not 1f } || Attribute(head, "beta") is { F: not 1f })
                throw Mismatch($"{where} has transA, alpha or beta set; RnnGen reads a plain Gemm h·Vᵀ + c.");
            bool transposed = Attribute(head, "transB") is { I: 1 };
            ReadHeadWeight(Constant(head, 1, "B", where, required: true)!, storedAsOutputByHidden: transposed, weight, where);
            bias = Constant(head, 2, "C", where, required: false);
            CheckNoOtherAdd(null);
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
            CheckNoOtherAdd(add);
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

    // The only Add a graph of the model may have is the one that adds the head's bias to its product.
    private void CheckNoOtherAdd(NodeProto? headAdd)
    {
        if (_graph.Node.FirstOrDefault(n => n.OpType == "Add" && n != headAdd) is { } add)
            throw Mismatch($"the graph has an Add node '{add.Name}' that does not add the head's bias to its product; {_info} adds nothing else.");
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
            if (node.Input[i].Length > 0)
                CheckState(node.Input[i], node.Input[i], i == 5 ? "initial_h" : "initial_c", where, new HashSet<string>(StringComparer.Ordinal));
    }

    // A state input must be the caller's: made from inputs of the graph, or zeros (a zero constant, ConstantOfShape of 0: an
    // exporter may build the default state so), through operations that pick or broadcast a layer's part of them. A state
    // made from anything else — a learned initial state, say — is part of a model that RnnGen's is not.
    private void CheckState(string tensor, string input, string role, string where, HashSet<string> seen)
    {
        if (!seen.Add(tensor)) return; // visited (a graph with a cycle ends here too)
        string madeFrom = tensor == input ? "" : $"made from '{tensor}', ";
        if (_constants.TryGetValue(tensor, out TensorProto? constant))
        {
            if (!IsZero(constant, where))
                throw Mismatch($"{where}: its {role} input '{input}' is {madeFrom}a non-zero constant; RnnGen's state is the caller's, not part of the model.", tensor);
            return;
        }
        if (!_producers.TryGetValue(tensor, out NodeProto? node))
            return; // an input of the graph
        switch (node.OpType)
        {
            case "ConstantOfShape":
                if (Attribute(node, "value") is { T: { } value } && !IsZero(value, where))
                    throw Mismatch($"{where}: its {role} input '{input}' is {madeFrom}a non-zero constant (ConstantOfShape node '{node.Name}'); " +
                                   "RnnGen's state is the caller's, not part of the model.", tensor);
                return;
            case "Identity" or "Cast" or "Squeeze" or "Unsqueeze" or "Reshape" or "Transpose" or "Slice" or "Split" or "Gather" or "Expand":
                if (node.Input.Count > 0 && node.Input[0].Length > 0)
                    CheckState(node.Input[0], input, role, where, seen);
                return;
            case "Concat":
                foreach (string part in node.Input)
                    if (part.Length > 0) CheckState(part, input, role, where, seen);
                return;
            default:
                throw Mismatch($"{where}: its {role} input '{input}' is {madeFrom}computed by the {node.OpType} node '{node.Name}'; RnnGen's " +
                               "state is the caller's (an input of the graph, or zeros), not part of the model.", tensor);
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
