"""Makes the PyTorch-exported ONNX fixtures of OnnxTorchExportTests (not run by the tests; the outputs are committed).

Run with Debian's interpreter and packages (apt-get install python3-torch): /usr/bin/python3 make_fixtures.py
For each of nn.LSTM / nn.GRU / nn.RNN(relu) (input 3, hidden 5, 2 layers) followed by nn.Linear(5, 2), it writes
torch_<kind>.onnx (torch.onnx.export, opset 14, PyTorch's own exporter) and torch_<kind>.txt with labelled lines:
the input x [4, 1, 3], h0 [2, 1, 5], c0 [2, 1, 5] (LSTM), torch's output [4, 1, 2], and every parameter in
named_parameters() order (= RnnGen's layout), all as float32 values written with repr().
"""
import torch


class Net(torch.nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.rnn = {"lstm": lambda: torch.nn.LSTM(3, 5, 2),
                    "gru": lambda: torch.nn.GRU(3, 5, 2),
                    "rnn_relu": lambda: torch.nn.RNN(3, 5, 2, nonlinearity="relu")}[kind]()
        self.head = torch.nn.Linear(5, 2)

    def forward(self, x, h0, c0=None):
        y, _ = self.rnn(x, (h0, c0) if self.kind == "lstm" else h0)
        return self.head(y)


def line(label, tensor):
    return label + ": " + " ".join(repr(float(v)) for v in tensor.detach().flatten()) + "\n"


torch.manual_seed(2024)
for kind in ["lstm", "gru", "rnn_relu"]:
    net = Net(kind).eval()
    x = torch.rand(4, 1, 3) * 2 - 1
    h0 = torch.rand(2, 1, 5) - 0.5
    c0 = torch.rand(2, 1, 5) - 0.5
    args = (x, h0, c0) if kind == "lstm" else (x, h0)
    torch.onnx.export(net, args, f"torch_{kind}.onnx", opset_version=14,
                      input_names=["input", "h0", "c0"][:len(args)], output_names=["output"])
    with torch.no_grad():
        y = net(*args)
    with open(f"torch_{kind}.txt", "w") as f:
        f.write(f"# {net.rnn} + {net.head}, exported by torch {torch.__version__}\n")
        f.write(line("x", x) + line("h0", h0) + line("c0", c0) + line("output", y))
        f.write(line("parameters", torch.cat([p.detach().flatten() for p in net.parameters()])))
