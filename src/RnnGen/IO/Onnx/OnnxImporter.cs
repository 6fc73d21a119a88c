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
    private readonly long _opset;
    private readonly Dictionary<string, TensorProto> _constants = new(StringComparer.Ordinal);
    private readonly Dictionary<string, NodeProto> _producers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ValueInfoProto> _inputs = new(StringComparer.Ordinal); // the graph's inputs by name (each name once: CheckNames)

    private OnnxImporter(ModelInfo info, GraphProto graph, OnnxSource source, long opset)
    {
        _info = info;
        _graph = graph;
        _source = source;
        _opset = opset;
        foreach (TensorProto initializer in graph.Initializer)
            _constants[initializer.Name] = initializer;
        foreach (ValueInfoProto input in graph.Input)
            _inputs.TryAdd(input.Name, input);
        foreach (NodeProto node in graph.Node)
        {
            foreach (string output in node.Output)
                if (output.Length > 0) _producers[output] = node;
            if (node.OpType == "Constant" && IsDefaultDomain(node) && node.Output.Count == 1 && ConstantValue(node) is { } value)
                _constants[node.Output[0]] = value;
        }
    }

    // A Constant node's value: its tensor, or an INT64 scalar (value_int) or list (value_ints), or a FLOAT scalar (value_float) or
    // list (value_floats), which ONNX Runtime (1.31) runs in every opset RnnGen reads (ONNX defines them from opset 12): the forms an
    // exporter may give an axes or shape list, or a bias.
    private static TensorProto? ConstantValue(NodeProto node)
    {
        foreach (AttributeProto a in node.Attribute)
            switch (a.Name)
            {
                case "value" when a.T is { } tensor:
                    return tensor;
                case "value_int" when a.Type == AttributeProto.Types.AttributeType.Int:
                    return OnnxTensors.CreateInt64(node.Output[0], [], a.I);
                case "value_ints" when a.Type == AttributeProto.Types.AttributeType.Ints:
                    return OnnxTensors.CreateInt64(node.Output[0], [a.Ints.Count], [.. a.Ints]);
                case "value_float" when a.Type == AttributeProto.Types.AttributeType.Float:
                    return OnnxTensors.Create<float>(node.Output[0], [a.F]);
                case "value_floats" when a.Type == AttributeProto.Types.AttributeType.Floats:
                    return OnnxTensors.Create<float>(node.Output[0], [.. a.Floats], a.Floats.Count);
            }
        return null;
    }

    /// <summary>The parameters in PyTorch layout, or a <see cref="ModelFileException"/> naming what does not match.</summary>
    public static T[] ReadParameters<T>(ModelInfo info, ModelProto model, OnnxSource source) where T : unmanaged, IFloatingPointIeee754<T>
    {
        GraphProto graph = model.Graph ?? throw source.Fail("the ONNX model has no graph.");
        long opset = CheckOpset(model, source);
        return new OnnxImporter(info, graph, source, opset).Read<T>();
    }

    private T[] Read<T>() where T : unmanaged, IFloatingPointIeee754<T>
    {
        CheckNames();
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
        CheckDeclaredInput();
        CheckStateSources();
        ReadHead(recurrent[^1], parameters);
        CheckFinalStates(recurrent);
        return parameters;
    }

    // ------------------------------------------------------------------ opset and names
    // LSTM, GRU and RNN mean the same from opset 7 (LSTM-7, GRU-7, RNN-7) to opset 22 (-14 added `layout`, -22 types only);
    // opset 1 had other attributes, and a later opset may change them again: refused rather than read by guess.
    internal const int MinOpset = 7, MaxOpset = 22;

    private static long CheckOpset(ModelProto model, OnnxSource source)
    {
        var opsets = model.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").ToList();
        if (opsets.Count == 0)
            throw source.Fail("the ONNX model imports no operator set of the default domain (ai.onnx), so what its operators compute is " +
                              $"undefined; RnnGen reads models that import ai.onnx opset {MinOpset} to {MaxOpset} (RnnGen and PyTorch export opset 14).");
        if (opsets.Count > 1)
            throw source.Fail($"the ONNX model imports the default domain (ai.onnx) {opsets.Count} times (opsets " +
                              $"{string.Join(", ", opsets.Select(o => o.Version))}); it must import it once.");
        long version = opsets[0].Version;
        if (version < MinOpset || version > MaxOpset)
            throw source.Fail($"the ONNX model uses opset {version} of the default domain; RnnGen reads opsets {MinOpset} to {MaxOpset}, in " +
                              "which LSTM, GRU and RNN compute what RnnGen's layers do (RnnGen and PyTorch export opset 14): export it with one of those.");
        return version;
    }

    // Each name is defined once: by an initializer, a node's output or a graph input (an initializer may also be listed as a
    // graph input). ONNX Runtime (1.31) refuses two graph inputs of a name ("Duplicate definition-site") and two nodes that
    // output one; it loads two initializers of a name and uses the last, which onnx.checker refuses ("initializer name is not
    // unique"): which one a model means is not knowable, so that is refused too.
    private void CheckNames()
    {
        var inputs = new HashSet<string>(StringComparer.Ordinal);
        foreach (ValueInfoProto input in _graph.Input)
            if (!inputs.Add(input.Name))
                throw Mismatch($"two inputs of the graph are named '{input.Name}'; each input of an ONNX graph is declared once, and ONNX Runtime " +
                               "refuses the graph (rename or remove one).", input.Name);
        var initializers = new HashSet<string>(StringComparer.Ordinal);
        foreach (TensorProto initializer in _graph.Initializer)
            if (!initializers.Add(initializer.Name))
                throw Mismatch($"two initializers are named '{initializer.Name}'; each tensor of an ONNX graph is defined once (rename or remove one).", initializer.Name);
        var produced = new HashSet<string>(StringComparer.Ordinal);
        foreach (NodeProto node in _graph.Node)
            foreach (string output in node.Output)
            {
                if (output.Length == 0) continue;
                if (!produced.Add(output))
                    throw Mismatch($"the tensor '{output}' is the output of two nodes; an ONNX graph computes each tensor once.", output);
                if (initializers.Contains(output))
                    throw Mismatch($"the tensor '{output}' is both an initializer and the output of the {node.OpType} node '{node.Name}'; " +
                                   "each tensor of an ONNX graph is defined once (rename or remove one).", output);
                if (_inputs.ContainsKey(output))
                    throw Mismatch($"the tensor '{output}' is both an input of the graph and the output of the {node.OpType} node '{node.Name}'; " +
                                   "each tensor of an ONNX graph is defined once (rename or remove one).", output);
            }
    }

    // ------------------------------------------------------------------ input
    // The kind of the graph input that the first layer reads (through moves, and a token model's OneHot): not the first
    // input declared, which may be a state or a length.
    private void CheckInputKind()
    {
        NodeProto? first = _graph.Node.FirstOrDefault(n => n.OpType is "LSTM" or "GRU" or "RNN" && IsDefaultDomain(n));
        string tensor = first is { Input.Count: > 0 } ? first.Input[0] : "";
        bool direct = tensor.Length > 0;   // whether the first layer reads the graph input itself (no move in between)
        for (int hops = 0; tensor.Length > 0 && hops <= _graph.Node.Count; hops++)
        {
            if (_constants.ContainsKey(tensor)) return;
            if (!_producers.TryGetValue(tensor, out NodeProto? node)) break;
            if (node.OpType is not ("Identity" or "Cast" or "Squeeze" or "Unsqueeze" or "Reshape" or "Transpose" or "Flatten" or "OneHot") || node.Input.Count == 0)
                return;
            tensor = node.Input[0];
            direct = false;
        }
        ValueInfoProto? input = IsGraphInput(tensor) ? _inputs[tensor] : null;
        if (input is null) return;
        _sequenceInput = tensor;
        if (input.Type?.TensorType is not { } type) return; // nothing declared: the other checks decide
        // sizes the graph declares for seq and batch: ONNX Runtime runs it on no others, so a Reshape may name them by number
        long? Declared(int axis) => type.Shape?.Dim is { } dims && axis < dims.Count && dims[axis] is { ValueCase: TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue, DimValue: > 0 } d
            ? d.DimValue : null;
        (_declaredSeq, _declaredBatch) = (Declared(0), Declared(1));
        var elementType = (TensorProto.Types.DataType)type.ElemType;
        bool tokenIds = elementType is TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Int32;
        if (_info.Tokens && !tokenIds)
            throw Mismatch($"the graph's input '{input.Name}' is {elementType} vectors; the model reads token ids (the graph of a token model takes INT64 ids).");
        if (!_info.Tokens && tokenIds)
            throw Mismatch($"the graph's input '{input.Name}' is {elementType} token ids; the model reads dense vectors (declare it with Tokens = true).");
        if (direct) _readByFirstLayer = input;
    }

    private ValueInfoProto? _readByFirstLayer; // the graph input, when the first layer reads it with no move in between

    // The shape the graph declares for the input its first layer reads directly, once the layers' weights have been found to
    // be the model's: [seq, batch, input_size] (ONNX Runtime refuses a graph whose input disagrees with its weights).
    private void CheckDeclaredInput()
    {
        if (_info.Tokens || _readByFirstLayer is not { } input || input.Type?.TensorType?.Shape?.Dim is not { Count: > 0 } declared) return;
        if (declared.Count != 3)
            throw Mismatch($"the graph's input '{input.Name}' is declared of rank {declared.Count}; the first layer reads it as [seq, batch, " +
                           $"{_info.InputSize}], and ONNX Runtime refuses the graph.", input.Name);
        if (declared[2] is { ValueCase: TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue, DimValue: long features } && features != _info.InputSize)
            throw Mismatch($"the graph's input '{input.Name}' is declared with {features} features; the first layer's weights read " +
                           $"{_info.InputSize}, as the model does, and ONNX Runtime refuses the graph.", input.Name);
    }

    // ------------------------------------------------------------------ what the graph computes
    // Operations that only carry values along — between the layers, into the states, around the head's weight — and
    // compute nothing a model would have to: an exporter's plumbing. Every other node must be a layer, the head (its
    // product and bias Add) or a token model's OneHot; any other operation (an activation, a normalisation, a scaling, an
    // embedding) would be silently left out of the imported model, so it is refused. Where the plumbing stands on the data
    // path, it must also keep the values and their axes (see Follow).
    private static readonly HashSet<string> Plumbing = new(StringComparer.Ordinal)
    {
        "Constant", "Identity", "Cast", "Squeeze", "Unsqueeze", "Reshape", "Flatten", "Transpose", "Slice", "Split", "Concat", "Gather",
        "Shape", "ConstantOfShape", "Expand",
    };

    // The operators a graph of the model may hold besides the plumbing: its layers, its head and a token model's OneHot.
    private static readonly string[] ModelOperators = ["LSTM", "GRU", "RNN", "MatMul", "Gemm", "Add", "OneHot"];

    // Operators a graph may hold that the model does not compute, named when a node spells one in another case.
    private static readonly string[] OtherOperators =
        ["Relu", "Tanh", "Sigmoid", "Softmax", "LogSoftmax", "Mul", "Sub", "Div", "Dropout", "LayerNormalization", "BatchNormalization", "LeakyRelu", "Elu", "Gelu"];

    private void CheckOperators()
    {
        foreach (NodeProto node in _graph.Node)
        {
            if (!IsDefaultDomain(node))
                throw Mismatch($"node '{node.Name}' is a {node.OpType} of the domain '{node.Domain}'; RnnGen reads operators of the default ONNX domain.");
            bool known = (ModelOperators.Contains(node.OpType) && (node.OpType != "OneHot" || _info.Tokens)) || Plumbing.Contains(node.OpType);
            if (!known)
            {
                // op types are case-sensitive: 'relu' is no ONNX operator (ONNX Runtime finds none registered and refuses the graph)
                if (ModelOperators.Concat(Plumbing).Concat(OtherOperators).FirstOrDefault(o => string.Equals(o, node.OpType, StringComparison.OrdinalIgnoreCase))
                    is { } spelled && spelled != node.OpType)
                    throw Mismatch($"node '{node.Name}' has op type '{node.OpType}', which is not an ONNX operator: op types are case-sensitive " +
                                   $"(ONNX's is '{spelled}'), and ONNX Runtime refuses the graph.");
                throw Mismatch($"the graph has a {node.OpType} node '{node.Name}', which {_info} does not compute; RnnGen reads graphs of " +
                               "one recurrent operator per layer, an optional linear head (MatMul + Add, or Gemm) and the shape operations " +
                               "between them (an exported RnnGen or PyTorch nn.LSTM / nn.GRU / nn.RNN with an nn.Linear).");
            }
            CheckOpsetForm(node);
        }
    }

    // Settings an opset moved from an attribute to an input: (operator, setting, its input, the first opset of the input form).
    private static readonly (string Op, string Name, int Input, int Since)[] SettingsAsInputs =
    [
        ("Reshape", "shape", 1, 5), ("Slice", "starts", 1, 10), ("Slice", "ends", 2, 10), ("Slice", "axes", 3, 10), ("Slice", "steps", 4, 10),
        ("Squeeze", "axes", 1, 13), ("Unsqueeze", "axes", 1, 13), ("Split", "split", 1, 13),
    ];

    // Operators the importer knows that ONNX added after opset 7 (the others exist in every opset it reads).
    private static readonly Dictionary<string, int> AddedInOpset = new(StringComparer.Ordinal) { ["OneHot"] = 9, ["ConstantOfShape"] = 9, ["Expand"] = 8 };

    // A node in the form of the graph's opset: its settings as the attributes or inputs that opset defines. ONNX Runtime refuses
    // a graph in another opset's form; reading it by the other form's meaning would import what no engine runs.
    private void CheckOpsetForm(NodeProto node)
    {
        string where = $"node '{node.Name}' ({node.OpType})";
        string invalid = $"the graph is not valid ONNX for its opset {_opset}, and ONNX Runtime refuses to load it.";
        if (AddedInOpset.TryGetValue(node.OpType, out int added) && _opset < added)
            throw Mismatch($"{where}: {node.OpType} is an operator of opset {added} and later; {invalid}");
        foreach (var (op, name, input, since) in SettingsAsInputs)
        {
            if (op != node.OpType) continue;
            if (_opset >= since && Attribute(node, name) is not null)
                throw Mismatch($"{where} has an attribute '{name}'; from opset {since} on, {op} takes its {name} as input {input}: {invalid}");
            if (_opset < since && input < node.Input.Count && node.Input[input].Length > 0)
                throw Mismatch($"{where} has its {name} as input {input} ('{node.Input[input]}'); before opset {since}, {op} takes them as an " +
                               $"attribute: {invalid}");
        }
        if (node.OpType == "Gemm" && _opset < 11 && (node.Input.Count < 3 || node.Input[2].Length == 0))
            throw Mismatch($"{where} has no input C, which Gemm requires before opset 11 (optional from opset 11 on): {invalid}");
        if (node.OpType == "Split")
        {
            long? parts = IntAttribute(node, "num_outputs");
            bool sizes = node.Input.Count > 1 && node.Input[1].Length > 0;
            if (parts is not null && _opset < 18)
                throw Mismatch($"{where} has an attribute 'num_outputs', which Split has from opset 18 on: {invalid}");
            if (_opset >= 18 && (parts is null) == !sizes)
                throw Mismatch($"{where} has {(sizes ? "both a split input and" : "neither a split input nor")} a num_outputs attribute; from " +
                               $"opset 18 on, Split takes exactly one of them: {invalid}");
            if (parts is not null && parts != node.Output.Count)
                throw Mismatch($"{where} has num_outputs = {parts} and {node.Output.Count} outputs: {invalid}");
        }
    }

    // ------------------------------------------------------------------ value-preserving moves
    // A value on the data path (a layer's input, the head's input, the graph's output, a layer's initial state) is followed
    // back through the operations that may move it — Identity, Cast, Squeeze, Unsqueeze, Reshape, Flatten, Transpose, Slice,
    // Gather, Split, Concat — to where it is computed (its origin), and then replayed forwards with the meaning of each axis:
    // seq, batch, features, an axis of size 1, the stacked layers of a state input, or states stacked by a Concat. A move
    // must keep the values (a Cast only to the same or a wider float) and the axes in their order ([seq, batch, features]):
    // it may add, drop or move axes of size 1, pick one layer of a stacked state, the last of stacked states, or the last
    // step of a sequence (a head on out[-1], or the head's result fc(out)[-1]); anything else — a Cast to an integer, a
    // Transpose of seq and batch, a Reshape that merges them, a pick of features or lanes — computes something the model does
    // not, and is refused by name.
    private enum AxisKind { Seq, Batch, Features, One, Layers, Stacked, Rows }

    private readonly record struct Axis(AxisKind Kind, long Size)
    {
        public bool IsOne => Kind == AxisKind.One;

        public override string ToString() => Kind switch
        {
            AxisKind.Seq => "seq",
            AxisKind.Batch => "batch",
            AxisKind.Features => $"features {Size}",
            AxisKind.One => "1",
            AxisKind.Layers => $"{Size} layers",
            AxisKind.Rows => "seq × batch rows",
            _ => $"{Size} stacked states",
        };
    }

    // Rows: seq and batch merged, in that order, into one axis of rows (PyTorch's fc(out.view(-1, H))): only a head, which maps
    // every row alone, may read it
    private static readonly Axis Seq = new(AxisKind.Seq, 0), Batch = new(AxisKind.Batch, 0), One = new(AxisKind.One, 1), Rows = new(AxisKind.Rows, 0);

    private static Axis Features(int size) => new(AxisKind.Features, size);

    private enum Role { Sequence, Ids, State }

    private enum ValueKind { Unknown, Float, Double, OneHot, Ids }

    private sealed class Traced
    {
        public NodeProto? Origin;   // the node that computes the value; null for a graph input or a constant
        public string Tensor = "";  // the origin's output (or the graph input, or the constant) the value starts as
        public List<Axis>? Axes;    // null: not a value RnnGen knows the axes of
        public int? Layer;          // the layer picked from a stacked state input
        public ValueKind Values;
        public Traced? Ids;         // a OneHot's ids, followed
        public bool LastStep;       // its seq axis picked at the last step (out[-1])
    }

    private const int MaxConcatDepth = 8;

    // Every hop of every walk back and replay forwards counts against one budget, linear in the graph's size: a graph whose
    // data path branches and joins again (Concats of Concats, thousands of outputs over one long chain) would otherwise take
    // exponential or quadratic time; RnnGen's and PyTorch's graphs use a few hops per node.
    private long _hops;

    private void Hop(string tensor)
    {
        if (++_hops > 64L * (_graph.Node.Count + 64))
            throw Mismatch($"the graph's data path is followed more than {64L * (_graph.Node.Count + 64):N0} times (at '{tensor}'): its values are " +
                           "copied, joined and picked again and again; RnnGen reads graphs of one operator per layer with a few moves between them.", tensor);
    }

    private static readonly HashSet<string> Moves = new(StringComparer.Ordinal)
    {
        "Identity", "Cast", "Squeeze", "Unsqueeze", "Reshape", "Flatten", "Transpose", "Slice", "Gather", "Split", "Concat",
    };

    private const string MoveRule =
        "RnnGen reads values moved unchanged: only Identity, a Cast to the same or a wider float, and Squeeze, Unsqueeze, Reshape, Flatten " +
        "or Transpose that add, drop or move axes of size 1 may carry them, keeping [seq, batch, features] in order (a head may also read " +
        "the last step, and a layer's state its own layer of h0 / c0).";

    // `subject` names the value in messages, e.g. "layer 1 (LSTM node 'lstm_l1'): its input X 'h_l0'".
    private Traced Follow(string tensor, Role role, string subject, int depth = 0)
    {
        var (origin, start, chain) = Back(tensor);
        Traced traced = Start(origin, start, role, subject, depth);
        if (traced.Axes is null) return traced;
        for (int i = chain.Count - 1; i >= 0; i--)
        {
            Hop(chain[i].Output);
            Apply(traced, chain[i].Node, chain[i].Output, role, subject, depth);
        }
        return traced;
    }

    // Back from `tensor` through the moves to where its value is computed: the node (null for a graph input or a constant),
    // its output the value starts as, and the moves in between (last first).
    private (NodeProto? Origin, string Start, List<(NodeProto Node, string Output)> Chain) Back(string tensor)
    {
        var chain = new List<(NodeProto Node, string Output)>();
        string current = tensor;
        for (int hops = 0; ; hops++)
        {
            if (hops > _graph.Node.Count)
                throw Mismatch($"the tensor '{tensor}' depends on itself; an ONNX graph has no cycles.", tensor);
            Hop(current);
            if (_constants.ContainsKey(current) || !_producers.TryGetValue(current, out NodeProto? node))
                return (null, current, chain);
            string next = node.Input.Count == 0 ? "" : node.OpType == "Concat" ? node.Input[^1] : node.Input[0];
            if (!Moves.Contains(node.OpType) || next.Length == 0 || _constants.ContainsKey(next))
                return (node, current, chain); // computed here (a move of a constant is a constant computed in the graph)
            chain.Add((node, current));
            current = next;
        }
    }

    // The axes a value has where it starts: a graph input by its role, a recurrent operator's Y [seq, 1, batch, hidden] or
    // Y_h / Y_c [1, batch, hidden], a token model's OneHot [seq, batch, vocabulary]; anything else is not known.
    private Traced Start(NodeProto? origin, string tensor, Role role, string subject, int depth)
    {
        var traced = new Traced { Origin = origin, Tensor = tensor };
        int hidden = _info.HiddenSize, layers = _info.LayerCount;
        if (origin is null)
        {
            if (!IsGraphInput(tensor)) return traced;
            ValueKind declared = KindOf(_inputs[tensor].Type?.TensorType?.ElemType ?? 0);
            switch (role)
            {
                case Role.Sequence:
                    traced.Axes = [Seq, Batch, Features(_info.InputSize)];
                    traced.Values = declared;
                    break;
                case Role.Ids:
                    traced.Axes = [Seq, Batch];
                    traced.Values = ValueKind.Ids;
                    break;
                default: // h0 / c0: [layers, batch, hidden]; with one layer, that layer's state as it is
                    traced.Axes = [layers == 1 ? One : new Axis(AxisKind.Layers, layers), Batch, Features(hidden)];
                    traced.Layer = layers == 1 ? 0 : null;
                    traced.Values = declared;
                    break;
            }
            return traced;
        }
        if (_headResult is { } head && origin == head.Node && tensor == head.Tensor)
        {
            traced.Axes = [.. head.Axes];
            traced.Values = head.Values;
            return traced;
        }
        if (origin.OpType is "LSTM" or "GRU" or "RNN")
        {
            traced.Axes = origin.Output.Count > 0 && origin.Output[0] == tensor ? [Seq, One, Batch, Features(hidden)] : [One, Batch, Features(hidden)];
            traced.Values = origin.Input.Count > 1 && _constants.TryGetValue(origin.Input[1], out TensorProto? w) ? KindOf(w.DataType) : ValueKind.Unknown;
            return traced;
        }
        if (origin.OpType == "OneHot" && role == Role.Sequence && origin.Input.Count > 0 && depth < MaxConcatDepth
            && Attribute(origin, "axis") is null or { Type: AttributeProto.Types.AttributeType.Int, I: -1 })
        {
            traced.Ids = Follow(origin.Input[0], Role.Ids, $"the OneHot node '{origin.Name}': its ids '{origin.Input[0]}'", depth + 1);
            if (traced.Ids.Axes is { } ids)
            {
                traced.Axes = [.. ids, Features(_info.InputSize)];
                traced.Values = ValueKind.OneHot;
            }
        }
        return traced;
    }

    private static ValueKind KindOf(int elementType) => (TensorProto.Types.DataType)elementType switch
    {
        TensorProto.Types.DataType.Float => ValueKind.Float,
        TensorProto.Types.DataType.Double => ValueKind.Double,
        _ => ValueKind.Unknown,
    };

    // One move, forwards: the axes after `node` made `output`, or a refusal naming the node and what it does.
    private void Apply(Traced traced, NodeProto node, string output, Role role, string subject, int depth)
    {
        List<Axis> axes = traced.Axes!;
        int rank = axes.Count;
        ModelFileException Refuse(string what) =>
            Mismatch($"{subject} passes through the {node.OpType} node '{node.Name}', which {what}; {MoveRule}", output);

        switch (node.OpType)
        {
            case "Identity":
                return;

            case "Cast":
            {
                long to = IntAttribute(node, "to") ?? throw Refuse("has no 'to' type");
                var type = (TensorProto.Types.DataType)to;
                bool keeps = traced.Values switch
                {
                    ValueKind.OneHot => type is not (TensorProto.Types.DataType.String or TensorProto.Types.DataType.Undefined),
                    ValueKind.Ids => type is TensorProto.Types.DataType.Int64 or TensorProto.Types.DataType.Int32,
                    ValueKind.Float => type is TensorProto.Types.DataType.Float or TensorProto.Types.DataType.Double,
                    _ => type is TensorProto.Types.DataType.Double, // double values, or of a type not known: only DOUBLE surely keeps them
                };
                if (!keeps)
                    throw Refuse($"converts {Describe(traced.Values)} to {type}, which does not keep their values");
                return;
            }

            case "Squeeze":
            {
                long[] list = Ints(node, 1, "axes", subject) ?? throw Refuse("squeezes every axis of size 1 (no axes given), which depends on the sequence and batch sizes");
                int[] drop = Normalize(list, rank, Refuse);
                foreach (int a in drop)
                    if (!axes[a].IsOne) throw Refuse($"removes the {axes[a]} axis of {Format(axes)}");
                foreach (int a in drop.OrderDescending()) axes.RemoveAt(a);
                return;
            }

            case "Unsqueeze":
            {
                long[] list = Ints(node, 1, "axes", subject) ?? throw Refuse("has no axes");
                CheckRank(rank + list.Length, Refuse);
                foreach (int a in Normalize(list, rank + list.Length, Refuse).Order())
                    axes.Insert(a, One);
                return;
            }

            case "Reshape":
            {
                Dim[] shape = ShapeValues(node, subject, depth) ?? throw Refuse("has no shape");
                CheckRank(shape.Length, Refuse);
                bool allowZero = IntAttribute(node, "allowzero") is { } z && z != 0;
                traced.Axes = Reshaped(axes, shape, allowZero)
                              ?? throw Refuse($"reshapes {Format(axes)} to [{string.Join(", ", shape)}], which may mix the sequence, batch and feature axes");
                return;
            }

            case "Flatten":
            {
                long axis = IntAttribute(node, "axis") ?? 1;
                if (axis < 0) axis += rank;
                if (axis < 0 || axis > rank) throw Refuse($"has axis {axis} outside its input's {rank} axes");
                Axis Merge(List<Axis> group)
                {
                    var kept = group.Where(a => !a.IsOne).ToList();
                    return kept.Count switch
                    {
                        0 => One,
                        1 => kept[0],
                        2 when kept[0] == Seq && kept[1] == Batch => Rows, // seq and batch as rows, in their order
                        _ => throw Refuse($"merges the {string.Join(" and ", kept)} axes of {Format(axes)} into one"),
                    };
                }
                traced.Axes = [Merge(axes.Take((int)axis).ToList()), Merge(axes.Skip((int)axis).ToList())];
                return;
            }

            case "Transpose":
            {
                long[] perm = Ints(node, -1, "perm", subject) ?? Enumerable.Range(0, rank).Select(i => (long)(rank - 1 - i)).ToArray();
                if (perm.Length != rank || perm.Order().Select((p, i) => p == i).Any(same => !same))
                    throw Refuse($"has perm {OnnxTensors.Format(perm)}, not a permutation of its input's {rank} axes");
                var result = perm.Select(p => axes[(int)p]).ToList();
                if (!result.Where(a => !a.IsOne).SequenceEqual(axes.Where(a => !a.IsOne)))
                    throw Refuse($"reorders {Format(axes)} as {Format(result)}");
                traced.Axes = result;
                return;
            }

            case "Gather":
            {
                int axis = Normalize([IntAttribute(node, "axis") ?? 0], rank, Refuse)[0];
                string indicesName = node.Input.Count > 1 ? node.Input[1] : "";
                if (!_constants.TryGetValue(indicesName, out TensorProto? indices))
                    throw Refuse($"picks by indices '{indicesName}' computed in the graph");
                long[] picks = Integers(node, 1, indices);
                if (indices.Dims.Count > 1 || picks.Length != 1)
                    throw Refuse($"picks {OnnxTensors.Format(indices.Dims)} entries along the {axes[axis]} axis of {Format(axes)}");
                long index = picks[0];
                // [index, index + 1), the end kept from overflowing (long.MaxValue is an index beyond any axis)
                long end = index == -1 || index == long.MaxValue ? long.MaxValue : index + 1;
                Pick(traced, axis, index, end, endIsLast: index == -1, keep: indices.Dims.Count == 1, $"entry {index}", Refuse);
                return;
            }

            case "Slice":
            {
                var (starts, ends, sliced, steps) = SliceArguments(node, subject) ?? throw Refuse("has no starts or no ends");
                int[] at = Normalize(sliced, rank, Refuse);
                for (int i = 0; i < at.Length; i++)
                {
                    if (steps[i] != 1) throw Refuse($"steps by {steps[i]} along the {axes[at[i]]} axis");
                    Pick(traced, at[i], starts[i], ends[i], endIsLast: ends[i] >= int.MaxValue, keep: true, $"[{starts[i]}, {ends[i]})", Refuse);
                }
                return;
            }

            case "Split":
            {
                int axis = Normalize([IntAttribute(node, "axis") ?? 0], rank, Refuse)[0];
                long[]? sizes = Ints(node, 1, "split", subject);
                int parts = node.Output.Count, index = node.Output.IndexOf(output);
                Axis split = axes[axis];
                if (split.IsOne && parts == 1 && sizes is null or [1])
                    return;
                if (split.Kind == AxisKind.Layers && (sizes is null ? parts == split.Size : sizes.Length == split.Size && sizes.All(s => s == 1)))
                {
                    traced.Layer = index;
                    axes[axis] = One;
                    return;
                }
                throw Refuse($"splits the {split} axis of {Format(axes)}" + (split.Kind == AxisKind.Layers ? " into other than one part per layer" : ""));
            }

            case "Concat":
            {
                // states stacked as layers (PyTorch's h_n): inputs of one along an axis of size 1, of which a pick must take the last
                int axis = Normalize([IntAttribute(node, "axis") ?? throw Refuse("has no axis")], rank, Refuse)[0];
                if (!axes[axis].IsOne)
                    throw Refuse($"joins its inputs along the {axes[axis]} axis of {Format(axes)}");
                for (int i = 0; i < node.Input.Count - 1; i++)
                {
                    if (depth >= MaxConcatDepth) throw Refuse("nests Concat nodes too deeply");
                    Traced other = Follow(node.Input[i], role, subject, depth + 1);
                    if (other.Axes is not { } otherAxes || otherAxes.Count != rank || !otherAxes[axis].IsOne)
                        throw Refuse($"joins '{node.Input[i]}', which is not one state along axis {axis}");
                }
                if (node.Input.Count > 1)
                {
                    axes[axis] = new Axis(AxisKind.Stacked, node.Input.Count);
                    _stackedBy[traced] = node;
                }
                return;
            }

            default:
                throw Refuse("is not a move");
        }
    }

    private readonly Dictionary<Traced, NodeProto> _stackedBy = new(ReferenceEqualityComparer.Instance);

    // The head's result (its Add's output, or its product's, or its Gemm's) with its axes, once the head is read: where the value
    // the graph outputs starts (see Start).
    private (NodeProto Node, string Tensor, List<Axis> Axes, ValueKind Values)? _headResult;
    private string? _modelOutput; // the graph output that CheckOutput found to be the model's output (the head's result, or the top h)

    // A pick of [start, end) along one axis: all of it (a move), the last step of seq, one layer of stacked states (a state
    // input's own), the last of the states a Concat stacks, or the one value of an axis of size 1. `what` names the pick as the
    // node gives it (a Gather's entry, a Slice's range) for messages.
    private void Pick(Traced traced, int axis, long start, long end, bool endIsLast, bool keep, string what, Func<string, ModelFileException> refuse)
    {
        List<Axis> axes = traced.Axes!;
        Axis picked = axes[axis];
        bool all, one;
        long first = 0;
        if (picked.Kind is AxisKind.Seq or AxisKind.Batch or AxisKind.Rows || (picked.Kind == AxisKind.Features && picked.Size == 0))
        {
            // sizes not known: all of it, the last one (out[-1], out[-1:]), or one counted from the start (a pick of rows,
            // other than all of them, is refused below: the last row is the last step of the last lane only)
            all = start == 0 && endIsLast && keep;
            one = (start == -1 && endIsLast) || (start >= 0 && start < long.MaxValue && end == start + 1);
        }
        else
        {
            long n = picked.Size;
            first = ClampIndex(start, n);
            long last = ClampIndex(end, n);
            all = keep && first == 0 && last == n;
            one = last - first == 1;
        }
        if (all) return;
        if (one)
        {
            switch (picked.Kind)
            {
                case AxisKind.One:
                    break;
                case AxisKind.Seq when start == -1:
                    traced.LastStep = true;
                    break;
                case AxisKind.Seq:
                    throw refuse($"picks {what} of the sequence's steps; {StepsRule}");
                case AxisKind.Layers:
                    traced.Layer = (int)first;
                    break;
                case AxisKind.Stacked when first == picked.Size - 1:
                    break;
                case AxisKind.Stacked:
                    throw refuse($"is a pick of other than the last of the states the Concat node '{_stackedBy[traced].Name}' stacks " +
                                 "(RnnGen's head and output read the top layer's h: h_n[-1])");
                default:
                    throw refuse($"picks one of the {picked} of {Format(axes)}");
            }
            if (keep) axes[axis] = One;
            else axes.RemoveAt(axis);
            return;
        }
        throw refuse(picked.Kind == AxisKind.Seq
            ? $"picks {what} of the sequence's steps; {StepsRule}"
            : $"picks {what} of the {picked} of {Format(axes)}");
    }

    private const string StepsRule =
        "a head reads every step or the last one (PyTorch's fc(out[-1])), and the graph outputs every step's result or the last one's (fc(out)[-1])";

    // Whether `moved`, followed from a value of axes `from`, holds that value's values at their (step, lane, feature): the same
    // factors in the same order (size-1 axes anywhere, seq and batch as rows), or those of its last step. A head maps every step
    // alone, so its result's last step (fc(out)[-1]) is what it computes from the last step (fc(out[-1])).
    private static bool Keeps(Traced moved, List<Axis> from) =>
        moved.Axes is { } axes && Factors(axes).SequenceEqual(Factors(from).Where(a => !(moved.LastStep && a == Seq)));

    // The most axes a value followed may have (RnnGen's and PyTorch's graphs use 4): a move to more is refused before it is
    // replayed, so no Unsqueeze or Reshape makes the walk's cost grow with the axes it adds.
    private const int MaxRank = 32;

    private static void CheckRank(long rank, Func<string, ModelFileException> refuse)
    {
        if (rank > MaxRank) throw refuse($"gives its value {rank} axes; RnnGen follows values of at most {MaxRank}");
    }

    private static int[] Normalize(long[] list, int rank, Func<string, ModelFileException> refuse)
    {
        var result = new int[list.Length];
        for (int i = 0; i < list.Length; i++)
        {
            long a = list[i] < 0 ? list[i] + rank : list[i];
            if (a < 0 || a >= rank) throw refuse($"has axis {list[i]} outside the {rank} axes of its data");
            result[i] = (int)a;
        }
        if (result.Distinct().Count() != result.Length) throw refuse($"names an axis twice in {OnnxTensors.Format(list)}");
        return result;
    }

    private static string Format(IEnumerable<Axis> axes) => "[" + string.Join(", ", axes) + "]";

    // The axes as the factors of their sizes, in order: rows are seq then batch; an axis of size 1 has none. Moves that keep the
    // factors in order keep every value at its (step, lane, feature).
    private static IEnumerable<Axis> Factors(IEnumerable<Axis> axes) =>
        axes.SelectMany(a => a.Kind == AxisKind.Rows ? new[] { Seq, Batch } : a.IsOne ? [] : new[] { a });

    // The axes after a Reshape to `shape`, or null when it may mix them. Each dimension takes the next factors of the input, in
    // order: 1 none (or a seq or batch the graph's input declares of size 1), 0 those of its input axis (unless allowzero), a
    // number one factor of that size (seq or batch: the size the graph's input declares), a size read by Shape its axis's; -1
    // takes what the others leave: nothing, one factor, or seq then batch as rows.
    private List<Axis>? Reshaped(List<Axis> axes, Dim[] shape, bool allowZero)
    {
        List<Axis> factors = Factors(axes).ToList();
        static bool Inferred(Dim d) => d.Of is null && d.Value == -1;
        int inferred = Array.FindIndex(shape, Inferred);
        if (inferred >= 0 && Array.FindLastIndex(shape, Inferred) != inferred) return null;
        var result = new Axis[shape.Length];
        int front = 0, back = factors.Count;
        bool Take(int i, bool atFront)
        {
            Dim d = shape[i];
            List<Axis> taken;
            Axis made;
            if (d.Of is { } of)
                (taken, made) = (Factors([of]).ToList(), of);
            else if (d.Value == 0 && !allowZero && i < axes.Count)
                (taken, made) = (Factors([axes[i]]).ToList(), axes[i]);
            else if (d.Value >= 1)
            {
                int at = atFront ? front : back - 1;
                if (at >= front && at < back && SizeIs(factors[at], d.Value)) (taken, made) = ([factors[at]], factors[at]);
                else if (d.Value == 1) (taken, made) = ([], One);
                else return false;
            }
            else return false;
            int start = atFront ? front : back - taken.Count;
            if (start < front || start + taken.Count > back || !factors.GetRange(start, taken.Count).SequenceEqual(taken)) return false;
            if (atFront) front += taken.Count;
            else back -= taken.Count;
            result[i] = made;
            return true;
        }
        for (int i = 0; i < (inferred >= 0 ? inferred : shape.Length); i++)
            if (!Take(i, atFront: true)) return null;
        if (inferred < 0) return front == back ? [.. result] : null;
        for (int i = shape.Length - 1; i > inferred; i--)
            if (!Take(i, atFront: false)) return null;
        Axis? rest = factors.GetRange(front, back - front) switch
        {
            [] => One,
            [var f] => f,
            [{ Kind: AxisKind.Seq }, { Kind: AxisKind.Batch }] => Rows,
            _ => null,
        };
        if (rest is not { } merged) return null;
        result[inferred] = merged;
        return [.. result];
    }

    // Whether a factor is of `size`: a features, layers or stacked axis by its size, seq and batch by the sizes the graph's input
    // declares (ONNX Runtime runs it on no others).
    private bool SizeIs(Axis factor, long size) => factor.Kind switch
    {
        AxisKind.Seq => _declaredSeq == size,
        AxisKind.Batch => _declaredBatch == size,
        _ => factor.Size == size,
    };

    // One value of a shape: a number, or the size of an axis of a value the graph computes (seq, batch or seq × batch rows: known
    // only when the graph runs).
    private readonly record struct Dim(long Value, Axis? Of)
    {
        public override string ToString() => Of is { } axis ? axis.ToString() : Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private const int MaxShapeDepth = 32;

    // A Reshape's shape (input 1): a constant, or computed from the shapes of values the importer follows (PyTorch's
    // x.view(seq, batch, -1) exported with dynamic axes: Shape, Gather, Slice, Unsqueeze, Squeeze, Concat, Cast and Identity of
    // them); null when the node has none.
    private Dim[]? ShapeValues(NodeProto node, string subject, int depth)
    {
        string name = node.Input.Count > 1 ? node.Input[1] : "";
        if (name.Length == 0) return null;
        Sizes shape = ShapeOf(name, subject, depth)
            ?? throw Mismatch($"{subject} passes through the {node.OpType} node '{node.Name}', whose shape '{name}' is computed in the graph " +
                              "from other than constants and the shapes of the values RnnGen follows; RnnGen reshapes by such shapes only.", name);
        CheckIntegerForm(node, 1, name, shape.Type, shape.Rank, shape.Values.Length);
        return shape.Values;
    }

    // A list of sizes computed in the graph (or a constant): its values, its rank (0: a scalar, 1: a list) and its integer type,
    // which a Reshape's shape and a Concat's parts must be of (see IntegerInputs).
    private readonly record struct Sizes(Dim[] Values, int Rank, TensorProto.Types.DataType Type);

    // The values of a shape tensor, or null when they are not known without running the graph (or are not a scalar or a list).
    private Sizes? ShapeOf(string tensor, string subject, int depth)
    {
        Hop(tensor);
        if (_constants.TryGetValue(tensor, out TensorProto? constant))
            return new Sizes([.. OnnxTensors.ReadInt64s(constant, $"the shape '{tensor}'", _source).Select(v => new Dim(v, null))], constant.Dims.Count,
                (TensorProto.Types.DataType)constant.DataType);
        if (depth >= MaxShapeDepth || !_producers.TryGetValue(tensor, out NodeProto? node) || node.Input.Count == 0 || node.Input[0].Length == 0)
            return null;
        string first = node.Input[0];
        switch (node.OpType)
        {
            case "Identity":
                return ShapeOf(first, subject, depth + 1);
            case "Unsqueeze" or "Squeeze": // a scalar made a list of one, or a list of one a scalar
            {
                long[]? axes = Ints(node, 1, "axes", subject);
                if (ShapeOf(first, subject, depth + 1) is not { } data || (axes is null && node.OpType == "Unsqueeze")) return null;
                bool ofOne = data.Values.Length == 1;
                int rank = node.OpType == "Unsqueeze" ? data.Rank + axes!.Length
                    : axes is null ? (ofOne ? 0 : data.Rank) : data.Rank - axes.Length; // Squeeze without axes: every axis of size 1
                return rank is 0 or 1 && (rank == data.Rank || ofOne) && (axes ?? []).All(a => a is 0 or -1) ? data with { Rank = rank } : null;
            }
            case "Cast":
                return IntAttribute(node, "to") is long castTo && castTo is (long)TensorProto.Types.DataType.Int64 or (long)TensorProto.Types.DataType.Int32
                    && ShapeOf(first, subject, depth + 1) is { } cast ? cast with { Type = (TensorProto.Types.DataType)castTo } : null;
            case "Concat":
            {
                if (IntAttribute(node, "axis") is not (0 or -1)) return null;
                var joined = new List<Dim>();
                TensorProto.Types.DataType? type = null;
                foreach (string part in node.Input)
                {
                    if (part.Length == 0 || ShapeOf(part, subject, depth + 1) is not { } dims) return null;
                    // ONNX Runtime refuses to load a Concat of scalars, or of a scalar and lists ("All inputs to Concat must have same
                    // rank"), or of INT32 and INT64 lists
                    if (dims.Rank != 1)
                        throw Mismatch($"node '{node.Name}' (Concat): its input '{part}' is {(dims.Rank == 0 ? "a scalar" : $"of rank {dims.Rank}")}; Concat " +
                                       $"joins lists, and ONNX Runtime refuses to load the graph: make it a list of one (Unsqueeze it on axis 0). {subject} " +
                                       $"passes through a Reshape by this shape.", part);
                    if (type is { } other && other != dims.Type)
                        throw Mismatch($"node '{node.Name}' (Concat) joins {other} and {dims.Type} ('{part}') lists; Concat's inputs are of one type, and " +
                                       "ONNX Runtime refuses to load the graph: Cast them to INT64.", part);
                    type = dims.Type;
                    joined.AddRange(dims.Values);
                    if (joined.Count > MaxRank)
                        throw Mismatch($"{subject} passes through a Reshape whose shape '{tensor}' joins more than {MaxRank} sizes (Concat node " +
                                       $"'{node.Name}'); RnnGen follows values of at most {MaxRank} axes.", tensor);
                }
                return type is { } joinedType ? new Sizes([.. joined], 1, joinedType) : null;
            }
            case "Gather":
            {
                // a scalar index picks a scalar, a list of them a list
                if (IntAttribute(node, "axis") is not (null or 0 or -1) || ShapeOf(first, subject, depth + 1) is not { Rank: 1 } data
                    || node.Input.Count < 2 || !_constants.TryGetValue(node.Input[1], out TensorProto? indices) || indices.Dims.Count > 1)
                    return null;
                var picked = new List<Dim>();
                foreach (long index in Integers(node, 1, indices))
                {
                    if (index < -data.Values.Length || index >= data.Values.Length) return null;
                    picked.Add(data.Values[index < 0 ? index + data.Values.Length : index]);
                }
                return data with { Values = [.. picked], Rank = indices.Dims.Count };
            }
            case "Slice":
            {
                if (ShapeOf(first, subject, depth + 1) is not { Rank: 1 } data
                    || SliceArguments(node, subject) is not ([var start], [var end], [0 or -1], [1]))
                    return null;
                var (from, to) = (ClampIndex(start, data.Values.Length), ClampIndex(end, data.Values.Length));
                return data with { Values = from < to ? data.Values[(int)from..(int)to] : [] };
            }
            case "Shape":
            {
                // the axes of the value measured: one the importer follows (a layer's output, the head's result, the input sequence)
                var (origin, startTensor, _) = Back(first);
                bool sequence = origin is null && startTensor == _sequenceInput;
                if (origin is null && !sequence) return null;
                Traced traced = Follow(first, sequence && _info.Tokens ? Role.Ids : Role.Sequence, $"{subject} (its shape, from '{first}')", depth + 1);
                if (traced.Axes is not { } measured) return null;
                int rank = measured.Count;
                long from = ClampIndex(IntAttribute(node, "start") ?? 0, rank), to = ClampIndex(IntAttribute(node, "end") ?? rank, rank);
                return new Sizes([.. measured.Skip((int)from).Take((int)Math.Max(to - from, 0))
                    .Select(a => a.Kind is AxisKind.Seq or AxisKind.Batch or AxisKind.Rows ? new Dim(0, a) : new Dim(a.Size, null))], 1, TensorProto.Types.DataType.Int64);
            }
            default:
                return null;
        }
    }

    // An index of a Slice or Shape range into [0, n]: negative counts from the end.
    private static long ClampIndex(long index, long n) => index < 0 ? Math.Max(index + n, 0) : Math.Min(index, n);


    private static string Describe(ValueKind values) => values switch
    {
        ValueKind.Float => "float values",
        ValueKind.Double => "double values",
        ValueKind.Ids => "token ids",
        ValueKind.OneHot => "one-hot values",
        _ => "values of a type the graph does not declare",
    };

    // An operator's integers: an attribute (older opsets), or a constant input (newer ones); null when neither is given.
    private long[]? Ints(NodeProto node, int input, string attribute, string subject)
    {
        if (Attribute(node, attribute) is { } a)
            return a.Type == AttributeProto.Types.AttributeType.Ints
                ? a.Ints.ToArray()
                : throw Mismatch($"node '{node.Name}' ({node.OpType}) has attribute '{attribute}' of type {a.Type}; ONNX defines it as INTS.");
        string name = input >= 0 && input < node.Input.Count ? node.Input[input] : "";
        if (name.Length == 0) return null;
        if (!_constants.TryGetValue(name, out TensorProto? tensor))
            throw Mismatch($"{subject} passes through the {node.OpType} node '{node.Name}', whose {attribute} '{name}' is computed in the graph; " +
                           $"RnnGen follows moves whose {attribute} are constants.", name);
        return Integers(node, input, tensor);
    }

    // A Slice's starts, ends, axes and steps (attributes before opset 10, constant inputs from 10 on; axes default to the first,
    // steps to 1), one of each per sliced axis and, as inputs, of one integer type (ONNX Runtime refuses to load a graph of other
    // lengths or of INT32 and INT64 mixed); null when it has no starts or no ends.
    private (long[] Starts, long[] Ends, long[] Axes, long[] Steps)? SliceArguments(NodeProto node, string subject)
    {
        long[]? starts = Ints(node, 1, "starts", subject), ends = Ints(node, 2, "ends", subject);
        if (starts is null || ends is null) return null;
        long[]? axes = Ints(node, 3, "axes", subject), steps = Ints(node, 4, "steps", subject);
        string invalid = $"node '{node.Name}' (Slice) has";
        long[]?[] lists = [starts, ends, axes, steps];
        if (lists.Any(list => list is not null && list.Length != starts.Length))
            throw Mismatch($"{invalid} " + string.Join(", ", lists.Zip(["starts", "ends", "axes", "steps"]).Where(l => l.First is not null)
                               .Select(l => $"{l.First!.Length} {l.Second}")) +
                           "; a Slice takes one of each per axis it slices, and ONNX Runtime refuses to load the graph: give them the same length.");
        var typed = Enumerable.Range(1, Math.Min(node.Input.Count, 5) - 1)
            .Where(i => _constants.ContainsKey(node.Input[i]))
            .Select(i => (Name: IntegerInputs[("Slice", i)].Name, Type: (TensorProto.Types.DataType)_constants[node.Input[i]].DataType)).ToList();
        if (typed.Select(t => t.Type).Distinct().Count() > 1)
            throw Mismatch($"{invalid} {string.Join(", ", typed.Select(t => $"{t.Name} {t.Type}"))}; a Slice's starts, ends, axes and steps are " +
                           "of one type, and ONNX Runtime refuses to load the graph: store them all as INT64.", node.Input[1]);
        return (starts, ends, axes ?? [.. Enumerable.Range(0, starts.Length).Select(i => (long)i)], steps ?? [.. Enumerable.Repeat(1L, starts.Length)]);
    }

    // ------------------------------------------------------------------ integer inputs
    // The integer inputs the importer reads, with the rank and element type ONNX gives each. ONNX Runtime (1.31) refuses to load a
    // graph of another element type, and fails running one whose input is of another rank ("Starts must be a 1-D array", "An axes
    // tensor must be a vector tensor", "A shape tensor must be a vector tensor"): what it cannot run computes nothing.
    private enum Ranks { List, ScalarOrList, Any }

    private static readonly Dictionary<(string Op, int Input), (string Name, Ranks Ranks, bool Int32Too)> IntegerInputs = new()
    {
        [("Slice", 1)] = ("starts", Ranks.List, true), [("Slice", 2)] = ("ends", Ranks.List, true),
        [("Slice", 3)] = ("axes", Ranks.List, true), [("Slice", 4)] = ("steps", Ranks.List, true),
        [("Squeeze", 1)] = ("axes", Ranks.List, false), [("Unsqueeze", 1)] = ("axes", Ranks.ScalarOrList, false),
        [("Reshape", 1)] = ("shape", Ranks.List, false), [("Split", 1)] = ("split", Ranks.List, false),
        [("Gather", 1)] = ("indices", Ranks.Any, true), [("Expand", 1)] = ("shape", Ranks.List, false),
        [("ConstantOfShape", 0)] = ("input", Ranks.List, false),
    };

    // The values of a constant integer input, of the rank and type ONNX gives it.
    private long[] Integers(NodeProto node, int input, TensorProto tensor)
    {
        string what = $"the {node.OpType} node '{node.Name}' {IntegerInputs[(node.OpType, input)].Name}";
        CheckIntegerForm(node, input, tensor.Name, (TensorProto.Types.DataType)tensor.DataType, tensor.Dims.Count, OnnxTensors.ElementCount(tensor, what, _source));
        return OnnxTensors.ReadInt64s(tensor, what, _source);
    }

    // An integer input (a constant, or a shape computed in the graph) of `rank` and element `type` is of the form ONNX gives it.
    private void CheckIntegerForm(NodeProto node, int input, string tensor, TensorProto.Types.DataType type, int rank, long count)
    {
        var (name, ranks, int32Too) = IntegerInputs[(node.OpType, input)];
        string where = $"node '{node.Name}' ({node.OpType}): its {name} '{tensor}'";
        string types = int32Too ? "INT64 or INT32" : "INT64";
        if (type is not TensorProto.Types.DataType.Int64 && !(int32Too && type is TensorProto.Types.DataType.Int32))
            throw Mismatch($"{where} is {type}; {node.OpType} takes its {name} as {types}, and ONNX Runtime refuses to load the graph: make it INT64.", tensor);
        if (ranks == Ranks.List && rank != 1 || ranks == Ranks.ScalarOrList && rank > 1)
            throw Mismatch($"{where} is {(rank == 0 ? "a scalar" : $"of rank {rank}")}; {node.OpType} takes its {name} as a 1-D list" +
                           (ranks == Ranks.ScalarOrList ? " (or a scalar)" : "") + $", and ONNX Runtime fails running the graph: make it a list of " +
                           $"shape [{count}].", tensor);
    }

    private bool IsGraphInput(string tensor) => !_constants.ContainsKey(tensor) && _inputs.ContainsKey(tensor);

    // The graph input the first layer reads (the sequence, or a token model's ids): a state made from it is refused. Its seq and
    // batch sizes, when it declares numbers for them.
    private string? _sequenceInput;
    private long? _declaredSeq, _declaredBatch;

    // Layer k's X must be the graph's input (a token model's through OneHot of depth Input, values [0, 1]) for k = 0, and
    // the Y of layer k − 1 above it, moved unchanged: the layers in the graph's order are the model's stack.
    private void CheckLayerInput(int k, NodeProto node, NodeProto? below, string where)
    {
        string x = node.Input.Count > 0 ? node.Input[0] : "";
        if (x.Length == 0)
            throw Mismatch($"{where} has no input X.");
        string subject = $"{where}: its input X '{x}'";
        Traced traced = Follow(x, Role.Sequence, subject);
        NodeProto? source = traced.Origin;
        string from = traced.Tensor;
        if (below is not null)
        {
            if (source != below || below.Output.Count == 0 || below.Output[0] != from)
                throw Mismatch($"{subject} is {Describe(source, from)}, not the output Y of layer {k - 1} " +
                               $"({below.OpType} node '{below.Name}'); RnnGen's layers are a stack, each reading the one below.", x);
        }
        else if (!_info.Tokens)
        {
            if (source is not null || !IsGraphInput(from))
                throw Mismatch($"{subject} is {Describe(source, from)}, not an input of the graph; RnnGen's first layer reads the model's input.", x);
            _sequenceInput = from;
        }
        else
            CheckOneHot(traced, subject, x);
        List<Axis> expected = [Seq, Batch, Features(k == 0 ? _info.InputSize : _info.HiddenSize)];
        if (traced.Axes is not { } axes || !axes.SequenceEqual(expected))
            throw Mismatch($"{subject} arrives with axes {(traced.Axes is null ? "not known" : Format(traced.Axes))}; a layer reads {Format(expected)}.", x);
    }

    private void CheckOneHot(Traced traced, string subject, string x)
    {
        if (traced.Origin is not { OpType: "OneHot" } oneHot)
            throw Mismatch($"{subject} is {Describe(traced.Origin, traced.Tensor)}; a token model's first layer reads OneHot(ids, depth {_info.InputSize}, values [0, 1]).", x);
        string oneHotWhere = $"the OneHot node '{oneHot.Name}'";
        if (traced.Ids is { } ids)
        {
            if (ids.Origin is not null || !IsGraphInput(ids.Tensor))
                throw Mismatch($"{oneHotWhere} encodes {Describe(ids.Origin, ids.Tensor)}, not an input of the graph.", ids.Tensor);
            _sequenceInput = ids.Tensor;
            if (ids.Axes is not [{ Kind: AxisKind.Seq }, { Kind: AxisKind.Batch }])
                throw Mismatch($"{oneHotWhere} encodes ids with axes {(ids.Axes is null ? "not known" : Format(ids.Axes))}; a token model reads ids [seq, batch].", ids.Tensor);
        }
        if (Attribute(oneHot, "axis") is { } axis && (axis.Type != AttributeProto.Types.AttributeType.Int || axis.I != -1))
            throw Mismatch($"{oneHotWhere} has axis {axis.I}; the one-hot vectors of a token model are its last axis (-1).");
        if (traced.Ids is null)
            throw Mismatch($"{oneHotWhere} encodes ids that are not an input of the graph.");
        TensorProto depthTensor = Constant(oneHot, 1, "depth", oneHotWhere, required: true)!;
        // ONNX Runtime refuses to load a OneHot whose depth is of rank 2 or more, or whose values are not a list
        if (depthTensor.Dims.Count > 1)
            throw Mismatch($"{oneHotWhere} has a depth '{depthTensor.Name}' of shape {OnnxTensors.Format(depthTensor.Dims)}; OneHot's depth is a scalar or a " +
                           "list of one, and ONNX Runtime refuses to load the graph: make it of shape [1].", depthTensor.Name);
        double depth = OnnxTensors.ReadScalar(depthTensor, oneHotWhere + " depth", _source);
        if (depth != _info.InputSize)
            throw Mismatch($"{oneHotWhere} has depth {depth}; the model's vocabulary is {_info.InputSize}.", depthTensor.Name);
        TensorProto valuesTensor = Constant(oneHot, 2, "values", oneHotWhere, required: true)!;
        if (valuesTensor.Dims.Count != 1)
            throw Mismatch($"{oneHotWhere} has values '{valuesTensor.Name}' of shape {OnnxTensors.Format(valuesTensor.Dims)}; OneHot's values are a list " +
                           "[off, on], and ONNX Runtime refuses to load the graph: make it of shape [2].", valuesTensor.Name);
        if (OnnxTensors.ElementCount(valuesTensor, oneHotWhere + " values", _source) != 2)
            throw Mismatch($"{oneHotWhere} has {OnnxTensors.Format(valuesTensor.Dims)} values; it must have two, [0, 1].", valuesTensor.Name);
        double[] values = OnnxTensors.ReadNumbers(valuesTensor, 2, oneHotWhere + " values", _source); // float, or int (F.one_hot)
        if (values[0] != 0 || values[1] != 1)
            throw Mismatch($"{oneHotWhere} has values [{values[0]}, {values[1]}]; a token model's one-hot vectors are [0, 1] (off, on).", valuesTensor.Name);
    }

    private string Describe(NodeProto? source, string tensor) =>
        source is not null ? $"computed by the {source.OpType} node '{source.Name}'"
        : IsGraphInput(tensor) || _constants.ContainsKey(tensor) ? $"'{tensor}'"
        : $"'{tensor}', which no node computes";

    // ------------------------------------------------------------------ recurrent layers
    private void ReadLayer<T>(int k, NodeProto node, NodeProto? below, Span<T> parameters) where T : unmanaged, IFloatingPointIeee754<T>
    {
        int hidden = _info.HiddenSize, gates = _info.GateCount, rows = gates * hidden;
        int inputWidth = k == 0 ? _info.InputSize : hidden;
        string where = $"layer {k} ({node.OpType} node '{node.Name}')";

        long? hiddenSize = IntAttribute(node, "hidden_size");
        if (hiddenSize is null)
            throw Mismatch($"{where} has no hidden_size attribute; ONNX Runtime needs it (the model's hidden size is {hidden}).");
        if (hiddenSize != hidden)
            throw Mismatch($"{where} has hidden_size {hiddenSize}; the model's hidden size is {hidden}.");
        if (IntAttribute(node, "layout") is { } layout && layout != 0)
            throw Mismatch($"{where} has layout {layout} (batch first); RnnGen reads layout 0, [seq, batch, features].");
        if (Attribute(node, "direction") is { } d && d.S.ToStringUtf8() != "forward")
            throw Mismatch($"{where} runs '{d.S.ToStringUtf8()}'; RnnGen layers run forward only.");
        if (Attribute(node, "clip") is not null)
            throw Mismatch($"{where} clips its pre-activations (attribute 'clip'); RnnGen cells do not.");
        if (_info.Cell == CellKind.Lstm && IntAttribute(node, "input_forget") is { } coupled && coupled != 0)
            throw Mismatch($"{where} couples its input and forget gates (input_forget = 1); RnnGen's LSTM does not.");
        if (_info.Cell == CellKind.Gru && IntAttribute(node, "linear_before_reset") is var linear && linear != 1)
            throw Mismatch($"{where} has {(linear is null ? "no linear_before_reset (ONNX's default 0: " : $"linear_before_reset = {linear} (")}" +
                           "reset gate applied to h before R); RnnGen's GRU is PyTorch's, which applies it to R·h + Rb: linear_before_reset must be 1.");
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
        CheckStateInputs(k, node, where);
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
        // ONNX Runtime reads an LSTM's and a GRU's activation names in any case ('sigmoid' is Sigmoid), an RNN's case-sensitively
        // (it refuses 'relu'): so does import
        StringComparer names = _info.Cell == CellKind.Rnn ? StringComparer.Ordinal : StringComparer.OrdinalIgnoreCase;
        if (actual.SequenceEqual(expected, StringComparer.OrdinalIgnoreCase) && !actual.SequenceEqual(expected, names))
            throw Mismatch($"{where} uses activations [{string.Join(", ", actual)}]: an RNN's activation names are case-sensitive (ONNX's are " +
                           $"[{string.Join(", ", expected)}]), and ONNX Runtime refuses the graph.");
        if (!actual.SequenceEqual(expected, names))
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
            CheckTopOutput(top);
            return;
        }
        if (heads.Count == 0)
            throw Mismatch($"the graph has no linear head (no MatMul or Gemm node); the model has a head of {outputs} outputs.");
        if (heads.Count > 1)
            throw Mismatch($"the graph has {heads.Count} MatMul/Gemm nodes; RnnGen's head is one linear layer.");

        NodeProto head = heads[0];
        string where = $"the head ({head.OpType} node '{head.Name}')";
        // it multiplies the top layer's h: its Y (every step) or Y_h (the last), or the last step picked from them
        string a = head.Input.Count > 0 ? head.Input[0] : "";
        Traced read = Follow(a, Role.Sequence, $"{where}: its input '{a}'");
        if (read.Origin != top || !(top.Output.Count > 0 && top.Output[0] == read.Tensor || top.Output.Count > 1 && top.Output[1] == read.Tensor))
            throw Mismatch($"{where} multiplies '{a}', which is {Describe(read.Origin, read.Tensor)}{RecurrentOutput(read.Origin, read.Tensor)}, not the " +
                           $"output of the top layer ({top.OpType} node '{top.Name}'); RnnGen's head reads the top layer's h (Y, or Y_h: h_n[-1]).", a);
        RefuseStackedStates(read, $"{where}: its input '{a}'", "RnnGen's head reads the top layer's h only: fc(h_n[-1])", a);
        Axis features = Features(_info.HiddenSize);
        List<Axis> core = read.Axes?.Where(x => !x.IsOne).ToList() ?? [];
        bool fits = read.Axes is [.., var last] && last == features
            && (core.SequenceEqual([Seq, Batch, features]) || core.SequenceEqual([Batch, features]) || core.SequenceEqual([Rows, features]));
        if (!fits)
            throw Mismatch($"{where} multiplies '{a}', which arrives with axes {(read.Axes is null ? "not known" : Format(read.Axes))}; RnnGen's head maps " +
                           $"the features of every step [seq, batch, {_info.HiddenSize}] (or its rows [seq × batch, {_info.HiddenSize}]) or of the last step " +
                           $"[batch, {_info.HiddenSize}] to its outputs.", a);
        Span<T> weight = Slice(parameters, "head.weight");
        TensorProto? bias = null;
        // the product keeps the axes the head read, its features now the outputs
        List<Axis> resultAxes = [.. read.Axes![..^1], Features(outputs)];
        if (head.OpType == "Gemm")
        {
            // beta scales C only: without C it changes nothing (ONNX Runtime ignores it too)
            bool hasC = head.Input.Count > 2 && head.Input[2].Length > 0;
            if (IntAttribute(head, "transA") is { } transA && transA != 0 || Attribute(head, "alpha") is { F: not 1f } || hasC && Attribute(head, "beta") is { F: not 1f })
                throw Mismatch($"{where} has transA, alpha, or beta with C set; RnnGen reads a plain Gemm h·Vᵀ + c.");
            // Gemm multiplies matrices: ONNX Runtime refuses a graph whose Gemm reads [seq, batch, H] (or a size-1 axis more)
            if (read.Axes.Count != 2)
                throw Mismatch($"{where} multiplies '{a}', which arrives with axes {Format(read.Axes)}; Gemm multiplies matrices (ONNX Runtime refuses " +
                               $"the graph): give it the last step [batch, {_info.HiddenSize}] (h_n[-1], out[-1]) or the rows [seq × batch, " +
                               $"{_info.HiddenSize}] (out.view(-1, H)), or use MatMul.", a);
            bool transposed = IntAttribute(head, "transB") is { } transB && transB != 0; // ONNX: any non-zero transposes
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
        }

        // The bias of a MatMul, or of a Gemm without C: the other operand of the Add that adds to the product, moved unchanged (no
        // Add: no bias, i.e. zero). A Gemm with C has added its bias: an Add after it would add a second.
        string product = SingleOutput(head, where);
        _headResult = (head, product, resultAxes, read.Values);
        bool FromProduct(string input) => Back(input) is var (node, start, _) && node == head && start == product;
        NodeProto? add = _graph.Node.FirstOrDefault(n => n.OpType == "Add" && IsDefaultDomain(n) && n.Input.Any(FromProduct));
        if (add is not null)
        {
            if (bias is not null)
                throw Mismatch($"{where} adds its bias C '{bias.Name}', and the Add node '{add.Name}' adds to its result again; RnnGen's head adds one " +
                               "bias: give the Gemm no C, or remove the Add.", add.Name);
            int side = FromProduct(add.Input[0]) ? 0 : 1;
            bias = Constant(add, 1 - side, "bias", where + "'s Add", required: true);
            resultAxes = BiasedAxes(add, add.Input[side], resultAxes);
        }
        // The result (the sum, or the product without a bias); the graph's output is that result, moved unchanged (PyTorch's
        // fc(out.view(-1, H)).view(seq, batch, -1)), or its last step (fc(out)[-1]).
        NodeProto resultNode = add ?? head;
        string result = SingleOutput(resultNode, add is null ? where : where + "'s Add");
        _headResult = (resultNode, result, resultAxes, read.Values);
        CheckOutput(resultNode,
            $"the graph's output is the head's result moved unchanged: its steps, lanes and outputs in order ([seq, batch, {outputs}], " +
            $"or as rows [seq × batch, {outputs}]; size-1 axes anywhere), or its last step ([batch, {outputs}]: fc(out)[-1], or a head on the last step)",
            (result, $"the head's result '{result}' ({resultNode.OpType} node '{resultNode.Name}')"));
        CheckNoOtherAdd(add);

        if (bias is not null)
        {
            // [Output], or [1, Output] (a row broadcast over the steps); [Output, 1] would broadcast as a column
            if (!OnnxTensors.HasShape(bias, outputs) && !OnnxTensors.HasShape(bias, 1, outputs))
                throw Mismatch($"{where} has a bias of shape {OnnxTensors.Format(bias.Dims)}; the model needs [{outputs}] or [1, {outputs}] (head.bias).", bias.Name);
            OnnxTensors.Read<T>(bias, Slice(parameters, "head.bias"), where + " bias", _source);
        } // no bias: zero
    }

    // The axes of the head's sum: those of the product as the Add reads it, moved unchanged (or its last step picked) from the
    // product's `productAxes`, its outputs on the last axis, along which a bias [Output] or [1, Output] is added.
    private List<Axis> BiasedAxes(NodeProto add, string input, List<Axis> productAxes)
    {
        string subject = $"the head's Add node '{add.Name}': its input '{input}'";
        Traced moved = Follow(input, Role.Sequence, subject);
        if (!Keeps(moved, productAxes) || moved.Axes is not [.., var last] || last != Features(_info.OutputSize))
            throw Mismatch($"{subject} arrives with axes {(moved.Axes is null ? "not known" : Format(moved.Axes))} from the head's product " +
                           $"{Format(productAxes)}; the bias is added to the product moved unchanged (or its last step), its {_info.OutputSize} " +
                           "outputs on the last axis, along which the bias is added to each.", input);
        return moved.Axes;
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

    // The head's result, or a model's top Y (or Y_h) without a head: the graph's output — the one named 'output', or else the first
    // that comes from the first of `results` (else from the next, an output that stacks states last) — must be that value moved
    // unchanged, its (step, lane, feature) values in RnnGen's order: the same factors (seq, batch, features) in the same order,
    // rows for seq and batch, size-1 axes anywhere; or its last step (see Keeps). A result that goes nowhere (a renamed or rewired
    // tensor) would otherwise be read as a head without a bias.
    private void CheckOutput(NodeProto origin, string rule, params (string Tensor, string What)[] results)
    {
        int From(ValueInfoProto o) => Back(o.Name) is var (node, start, _) && node == origin ? Array.FindIndex(results, r => r.Tensor == start) : -1;
        bool Stacks(ValueInfoProto o) => _producers.TryGetValue(Unwrap(o.Name), out NodeProto? node) && node.OpType == "Concat";
        string what = string.Join(" or ", results.Select(r => r.What));
        ValueInfoProto? named = _graph.Output.FirstOrDefault(o => o.Name == OnnxFile.OutputName);
        ValueInfoProto? reached = named is not null && From(named) >= 0 ? named
            : _graph.Output.Where(o => From(o) >= 0).MinBy(o => (From(o), Stacks(o))); // the first of the least
        if (named is not null && reached != named)
        {
            var (node, start, _) = Back(named.Name);
            throw Mismatch($"the graph's output '{named.Name}' is {Describe(node, start)}{RecurrentOutput(node, start)}, not {what}" +
                           (reached is null ? "" : $", which is the graph's output '{reached.Name}'") + $"; {rule}.", named.Name);
        }
        if (reached is null)
            throw Mismatch($"{what} is not an output of the graph, nor moved unchanged into one; {rule}.", results[0].Tensor);
        string subject = $"the graph's output '{reached.Name}'";
        Traced traced = Follow(reached.Name, Role.Sequence, subject);
        var (from, fromWhat) = results[From(reached)];
        RefuseStackedStates(traced, subject, rule, reached.Name);
        List<Axis> computed = Start(origin, from, Role.Sequence, subject, 0).Axes!;
        if (!Keeps(traced, computed))
            throw Mismatch($"{subject} arrives with axes {(traced.Axes is null ? "not known" : Format(traced.Axes))} from {fromWhat}'s {Format(computed)}; {rule}.", reached.Name);
        _modelOutput = reached.Name;
    }

    // The final states of the layers stacked (PyTorch's h_n, a Concat of each layer's Y_h): RnnGen's head and output read the top
    // layer's h only, one state per lane; its last, h_n[-1], is the top layer's Y_h.
    private void RefuseStackedStates(Traced traced, string subject, string rule, string tensor)
    {
        if (traced.Axes?.FirstOrDefault(a => a.Kind == AxisKind.Stacked) is { Kind: AxisKind.Stacked } stacked)
            throw Mismatch($"{subject} stacks {stacked.Size} final states (the Concat node '{_stackedBy[traced].Name}': PyTorch's h_n, every layer's), " +
                           $"not the top layer's alone; {rule}.", tensor);
    }

    // Which output of a recurrent operator a tensor is, for messages: its final hidden state Y_h or its final cell state Y_c (Y,
    // the steps' h, is what "the output" says already).
    private static string RecurrentOutput(NodeProto? node, string tensor) =>
        node is { OpType: "LSTM" or "GRU" or "RNN" } ? node.Output.IndexOf(tensor) switch
        {
            1 => " (its final hidden state Y_h)",
            2 => " (its final cell state Y_c, PyTorch's c_n: not an h)",
            _ => "",
        } : "";

    // ------------------------------------------------------------------ states
    // The state inputs of a recurrent node: no sequence_lens (RnnGen runs every step of every sequence); initial_h and
    // initial_c absent, zeros, or exactly the layer's own slice of a state input of the graph (h0[k], c0[k]): not the
    // sequence, not another layer's slice, not the other state, not a cast or a pick of features or lanes of it. A misplaced
    // tensor — the node wired differently, or damaged — is refused here rather than read as a layer without a bias.
    private readonly Dictionary<string, List<(int Layer, string Input)>> _stateSources = new(StringComparer.Ordinal);

    private void CheckStateInputs(int k, NodeProto node, string where)
    {
        string lengths = node.Input.Count > 4 ? node.Input[4] : "";
        if (lengths.Length > 0)
            throw Mismatch($"{where}: its sequence_lens input '{lengths}' is set; RnnGen runs every step of every sequence (it has no " +
                           "per-sequence lengths): leave sequence_lens empty.", lengths);
        int slots = _info.Cell == CellKind.Lstm ? 7 : 6;
        for (int i = 5; i < Math.Min(node.Input.Count, slots); i++)
        {
            string state = node.Input[i];
            if (state.Length == 0) continue;
            string role = i == 5 ? "initial_h" : "initial_c";
            string subject = $"{where}: its {role} input '{state}'";
            if (IsZeros(state, role, where)) continue;
            Traced traced = Follow(state, Role.State, subject);
            if (traced.Origin is not null || !IsGraphInput(traced.Tensor))
                throw Mismatch($"{subject} is {Describe(traced.Origin, traced.Tensor)}, not layer {k}'s slice of a state input of the graph; " +
                               "RnnGen's state is the caller's (h0 / c0 [layers, batch, hidden]), or zeros.", state);
            if (traced.Tensor == _sequenceInput)
                throw Mismatch($"{subject} is made from '{traced.Tensor}', the graph's input sequence; RnnGen's state is the caller's " +
                               "h0 / c0 [layers, batch, hidden], or zeros.", state);
            List<Axis> expected = [One, Batch, Features(_info.HiddenSize)];
            if (traced.Axes is not { } axes || !axes.SequenceEqual(expected))
                throw Mismatch($"{subject} arrives with axes {(traced.Axes is null ? "not known" : Format(traced.Axes))}; a layer's state is its " +
                               $"own slice of the graph input '{traced.Tensor}', {Format(expected)}.", state);
            if (traced.Layer != k)
                throw Mismatch($"{subject} is layer {traced.Layer}'s slice of the graph input '{traced.Tensor}'; layer {k} reads its own " +
                               $"({traced.Tensor}[{k}]), as RnnGen's and PyTorch's layers do.", state);
            if (!_stateSources.TryGetValue(role, out var sources))
                _stateSources[role] = sources = [];
            sources.Add((k, traced.Tensor));
        }
    }

    // The shape a state input of the graph declares, if any: [layers, batch, hidden] (ONNX Runtime runs the graph on no other,
    // so a graph that declares another cannot be fed RnnGen's state).
    private void CheckDeclaredState(string name, string role)
    {
        if (_inputs[name].Type?.TensorType?.Shape?.Dim is not { Count: > 0 } dims) return;
        long? At(int axis) => axis < dims.Count && dims[axis].ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? dims[axis].DimValue : null;
        string expected = $"[{_info.LayerCount}, batch, {_info.HiddenSize}] (layers, batch, hidden)";
        if (dims.Count != 3)
            throw Mismatch($"the graph input '{name}' (the layers' {role}) is declared of rank {dims.Count}, {DeclaredShape(dims)}; the model's state is " +
                           $"{expected}, and ONNX Runtime runs the graph on no other.", name);
        if (At(0) is long layers && layers != _info.LayerCount || At(2) is long hidden && hidden != _info.HiddenSize
            || At(1) is long batch && _declaredBatch is long inputBatch && batch != inputBatch)
            throw Mismatch($"the graph input '{name}' (the layers' {role}) is declared {DeclaredShape(dims)}; the model's state is {expected}" +
                           (_declaredBatch is long b ? $" with the input's batch {b}" : "") + ", and ONNX Runtime runs the graph on no other.", name);
    }

    private static string DeclaredShape(IEnumerable<TensorShapeProto.Types.Dimension> dims) =>
        "[" + string.Join(", ", dims.Select(d => d.ValueCase switch
        {
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => d.DimParam,
            _ => "?",
        })) + "]";

    // Every layer's initial_h comes from one graph input and every initial_c from another (h0 and c0, by those names when
    // the graph has inputs of them).
    private void CheckStateSources()
    {
        var used = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (role, expectedName) in new[] { ("initial_h", OnnxFile.InitialHiddenName), ("initial_c", OnnxFile.InitialCellName) })
        {
            if (!_stateSources.TryGetValue(role, out var sources)) continue;
            var names = sources.Select(s => s.Input).Distinct().ToList();
            if (sources.Count != _info.LayerCount)
            {
                int missing = Enumerable.Range(0, _info.LayerCount).First(k => sources.All(s => s.Layer != k));
                throw Mismatch($"layer {missing}'s {role} is zeros or absent while layer {sources[0].Layer}'s is a slice of the graph input " +
                               $"'{names[0]}'; RnnGen feeds every layer's state from the caller's stacked state: give every layer its slice.", names[0]);
            }
            if (names.Count > 1)
                throw Mismatch($"the layers' {role} inputs are slices of different graph inputs ({string.Join(", ", names.Select(n => $"'{n}'"))}); " +
                               $"RnnGen's layers read one stacked state, layer k its slice k.", names[1]);
            string name = names[0];
            if (used.TryGetValue(name, out string? other))
                throw Mismatch($"layer {sources[0].Layer}'s {role} is a slice of '{name}', which the layers' {other} read; an LSTM's " +
                               $"h0 and c0 are separate inputs.", name);
            if (name != expectedName && IsGraphInput(expectedName))
                throw Mismatch($"the layers' {role} inputs are slices of the graph input '{name}', not of '{expectedName}'; RnnGen's " +
                               $"{expectedName} is the {(role == "initial_h" ? "hidden" : "cell")} state.", name);
            used[name] = role;
            CheckDeclaredState(name, role);
        }
    }

    // Whether a state input is zeros: made, through plumbing, only of zero constants or ConstantOfShape of 0 (an exporter's
    // default state). A non-zero constant (a learned initial state) or a computation is refused; a graph input makes it
    // not zeros (then it must be the caller's state). Iterative: a chain of any length is followed without recursion. A node
    // on the way without an input it requires, and zeros that feed the node directly in a shape other than [1, batch, hidden],
    // are refused: ONNX Runtime refuses such a graph, or fails running it.
    private bool IsZeros(string state, string role, string where)
    {
        var pending = new Stack<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        pending.Push(state);
        bool fromInput = false;
        while (pending.Count > 0)
        {
            string tensor = pending.Pop();
            if (!seen.Add(tensor)) continue;
            string madeFrom = tensor == state ? "" : $"made from '{tensor}', ";
            if (_constants.TryGetValue(tensor, out TensorProto? constant))
            {
                if (_inputs.ContainsKey(tensor))
                {
                    fromInput = true; // an initializer that is also a graph input is only its default: the caller may feed it
                    continue;
                }
                if (!IsZero(constant, where))
                    throw Mismatch($"{where}: its {role} input '{state}' is {madeFrom}a non-zero constant; RnnGen's state is the caller's, not part of the model.", tensor);
                if (tensor == state)
                    CheckZeroStateShape(constant.Dims, $"a zero constant of shape {OnnxTensors.Format(constant.Dims)}", role, where, tensor);
                continue;
            }
            if (!_producers.TryGetValue(tensor, out NodeProto? node))
            {
                fromInput = true; // an input of the graph
                continue;
            }
            switch (node.OpType)
            {
                case "ConstantOfShape":
                {
                    // its value a 1-D tensor of one element, its shape a list of INT64 (else ONNX Runtime refuses the graph)
                    if (Attribute(node, "value") is { T: { } value } && !(value.Dims.Count == 1 && value.Dims[0] == 1))
                        throw Mismatch($"node '{node.Name}' (ConstantOfShape) has a value of shape {OnnxTensors.Format(value.Dims)}; ConstantOfShape's value " +
                                       "is a 1-D tensor of one element, and ONNX Runtime refuses to load the graph: make it of shape [1].", tensor);
                    string shapeInput = RequiredInput(node, 0, "input (the shape)");
                    if (_constants.TryGetValue(shapeInput, out TensorProto? shape))
                    {
                        long[] dims = Integers(node, 0, shape);
                        if (tensor == state)
                            CheckZeroStateShape(dims, $"zeros of shape {OnnxTensors.Format(dims)} (ConstantOfShape node '{node.Name}')", role, where, tensor);
                    }
                    if (Attribute(node, "value") is { T: { } zero } && !IsZero(zero, where))
                        throw Mismatch($"{where}: its {role} input '{state}' is {madeFrom}a non-zero constant (ConstantOfShape node '{node.Name}'); " +
                                       "RnnGen's state is the caller's, not part of the model.", tensor);
                    continue;
                }
                case "Expand":
                    if (_constants.TryGetValue(RequiredInput(node, 1, "input 1 (the shape)"), out TensorProto? expandedTo))
                        Integers(node, 1, expandedTo);
                    pending.Push(RequiredInput(node, 0, "input 0"));
                    continue;
                case "Concat":
                    if (node.Input.Count == 0)
                        RequiredInput(node, 0, "input");
                    for (int i = 0; i < node.Input.Count; i++)
                        pending.Push(RequiredInput(node, i, $"input {i}"));
                    continue;
                case var move when Moves.Contains(move): // a zero state keeps zeros through any move
                    pending.Push(RequiredInput(node, 0, "input 0"));
                    continue;
                default:
                    throw Mismatch($"{where}: its {role} input '{state}' is {madeFrom}computed by the {node.OpType} node '{node.Name}'; RnnGen's " +
                                   "state is the caller's (an input of the graph, or zeros), not part of the model.", tensor);
            }
        }
        return !fromInput;
    }

    // Input `index` of a node on a zero state's way, which its operator requires: an empty name (or none) is not valid ONNX.
    private string RequiredInput(NodeProto node, int index, string what)
    {
        string input = index < node.Input.Count ? node.Input[index] : "";
        if (input.Length == 0)
            throw Mismatch($"node '{node.Name}' ({node.OpType}) has no {what}, which {node.OpType} requires: the graph is not valid ONNX, and " +
                           "ONNX Runtime refuses it.", node.Output.Count > 0 ? node.Output[0] : node.Name);
        return input;
    }

    // Zeros that a recurrent node reads directly as its initial state have its shape, [num_directions = 1, batch, hidden_size]
    // (ONNX Runtime fails running the node on any other).
    private void CheckZeroStateShape(IReadOnlyList<long> dims, string what, string role, string where, string tensor)
    {
        if (dims.Count != 3 || dims[0] != 1 || dims[1] < 1 || dims[2] != _info.HiddenSize)
            throw Mismatch($"{where}: its {role} input '{tensor}' is {what}; an initial state is of shape [1, batch, {_info.HiddenSize}] " +
                           $"(one direction, the batch, this model's hidden size {_info.HiddenSize}), and ONNX Runtime fails running the graph.", tensor);
    }

    // A model without a head outputs its top layer's h at every step: the graph's output is the top layer's Y, moved unchanged
    // (or its last step, out[-1]), or its final hidden state Y_h, which is the last step's h (h_n, h_n[-1] of the stacked states).
    private void CheckTopOutput(NodeProto top)
    {
        var results = new List<(string Tensor, string What)>();
        if (top.Output.Count > 0 && top.Output[0].Length > 0)
            results.Add((top.Output[0], $"the output Y of the top layer ({top.OpType} node '{top.Name}')"));
        if (top.Output.Count > 1 && top.Output[1].Length > 0)
            results.Add((top.Output[1], results.Count > 0 ? "its final hidden state Y_h" : $"the final hidden state Y_h of the top layer ({top.OpType} node '{top.Name}')"));
        if (results.Count == 0)
            throw Mismatch($"the top layer ({top.OpType} node '{top.Name}') has neither an output Y nor Y_h; a model without a head outputs its top layer's h.");
        CheckOutput(top,
            $"a model without a head outputs its top layer's h at every step, [seq, batch, {_info.HiddenSize}] (or as rows [seq × batch, " +
            $"{_info.HiddenSize}]; size-1 axes anywhere), or at the last step [batch, {_info.HiddenSize}] (out[-1], or the top layer's Y_h: h_n[-1])",
            [.. results]);
    }

    // The final states the graph returns (hn, cn; or any output that stacks the layers' Y_h or Y_c) must be the layers'
    // states stacked in order on axis 0, as PyTorch's h_n / c_n and RnnGen's hn / cn are. The model's own output is not one of
    // them, whatever its name: a model without a head that returns h_n[-1] as 'hn' has been checked as that.
    private void CheckFinalStates(List<NodeProto> layers)
    {
        foreach (ValueInfoProto output in _graph.Output)
        {
            if (output.Name == _modelOutput) continue;
            int index = output.Name == OnnxFile.FinalHiddenName ? 1 : output.Name == OnnxFile.FinalCellName && _info.HasCellState ? 2 : 0;
            string tensor = Unwrap(output.Name);
            _producers.TryGetValue(tensor, out NodeProto? producer);
            if (index == 0)
            {
                // an output of another name counts when it is a Concat of the layers' final states
                if (producer is not { OpType: "Concat" } || producer.Input.Count == 0) continue;
                string first = Unwrap(producer.Input[0]);
                if (!_producers.TryGetValue(first, out NodeProto? node) || !layers.Contains(node) || node.Output.IndexOf(first) is not (1 or 2))
                    continue;
                index = node.Output.IndexOf(first);
            }
            CheckStacked(output.Name, producer, index, layers);
        }
    }

    private string Unwrap(string tensor)
    {
        for (int hops = 0; hops <= _graph.Node.Count && _producers.TryGetValue(tensor, out NodeProto? node) && node.OpType == "Identity" && node.Input.Count > 0; hops++)
        {
            Hop(tensor); // thousands of outputs over one long chain: within the budget, not their product
            tensor = node.Input[0];
        }
        return tensor;
    }

    private void CheckStacked(string output, NodeProto? producer, int index, List<NodeProto> layers)
    {
        string subject = $"the graph's output '{output}'";
        string states = index == 1 ? "final hidden states (Y_h)" : "final cell states (Y_c)";
        string rule = $"it must stack the {states} of layers 0 to {layers.Count - 1}, in order, on axis 0 (PyTorch's h_n / c_n).";
        List<Axis> expected = [One, Batch, Features(_info.HiddenSize)];
        void CheckState(string tensor, int k, string what)
        {
            Traced traced = Follow(tensor, Role.Sequence, subject);
            if (traced.Origin != layers[k] || layers[k].Output.Count <= index || layers[k].Output[index] != traced.Tensor
                || traced.Axes is not { } axes || !axes.SequenceEqual(expected))
                throw Mismatch($"{subject} {what} '{tensor}', which is {Describe(traced.Origin, traced.Tensor)}" +
                               (traced.Origin is not null && traced.Origin.Output.Contains(traced.Tensor) ? $" (its output {traced.Origin.Output.IndexOf(traced.Tensor)})" : "") +
                               $"; {rule}", output);
        }
        if (producer is not { OpType: "Concat" })
        {
            if (layers.Count > 1)
                throw Mismatch($"{subject} is {Describe(producer, output)}, not a Concat of the layers' states; {rule}", output);
            CheckState(output, 0, "is");
            return;
        }
        if (IntAttribute(producer, "axis") is not (0 or -3))
            throw Mismatch($"{subject} is a Concat (node '{producer.Name}') on axis {IntAttribute(producer, "axis")}; {rule}", output);
        if (producer.Input.Count != layers.Count)
            throw Mismatch($"{subject} stacks {producer.Input.Count} tensors (Concat node '{producer.Name}'); {rule}", output);
        for (int k = 0; k < layers.Count; k++)
            CheckState(producer.Input[k], k, $"stacks as layer {k}");
    }

    // Its values are read only once its data is known to hold them: a shape that declares more than the file holds is refused
    // before anything is allocated from it.
    private bool IsZero(TensorProto tensor, string where) => OnnxTensors.ReadAll<double>(tensor, where + " state", _source).All(v => v == 0);

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

    /// <summary>A weight: the initializer or Constant node the input names. An initializer that is also a graph input (PyTorch's
    /// keep_initializers_as_inputs=True lists every weight so) is read as its value: what ONNX Runtime uses when the caller does
    /// not feed that input (a caller that feeds other weights runs another model). A graph input without one is refused.</summary>
    private TensorProto? Constant(NodeProto node, int index, string role, string where, bool required)
    {
        string name = index < node.Input.Count ? node.Input[index] : "";
        if (name.Length == 0)
            return required ? throw Mismatch($"{where} has no {role} input.") : null;
        if (_constants.TryGetValue(name, out TensorProto? tensor))
            return tensor;
        throw Mismatch(_inputs.ContainsKey(name)
            ? $"{where}: its {role} input '{name}' is an input of the graph (fed by the caller), not an initializer; RnnGen imports weights stored as initializers or Constant nodes."
            : $"{where}: its {role} input '{name}' is computed in the graph; RnnGen imports weights stored as initializers or Constant nodes.", name);
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

    // An INT attribute's value (null when absent); one of another type is refused, not read as 0.
    private long? IntAttribute(NodeProto node, string name)
    {
        if (Attribute(node, name) is not { } a) return null;
        if (a.Type != AttributeProto.Types.AttributeType.Int)
            throw Mismatch($"node '{node.Name}' ({node.OpType}) has attribute '{name}' of type {a.Type}; ONNX defines it as an INT.");
        return a.I;
    }

    private static bool IsDefaultDomain(NodeProto node) => node.Domain is "" or "ai.onnx";

    private ModelFileException Mismatch(string detail, string? tensorName = null) =>
        _source.Fail($"the ONNX graph does not match {_info}: {detail}", tensorName);
}
