using BenchmarkDotNet.Running;
using EdgeNet.KernelBenchmarks;

// Kernel micro-benchmarks (BenchmarkDotNet). Examples:
//   dotnet run -c Release --project benchmarks/EdgeNet.KernelBenchmarks -- --filter '*' --job short
//   dotnet run -c Release --project benchmarks/EdgeNet.KernelBenchmarks -- --ratio 256x256x256 512x512x512
//   dotnet run -c Release --project benchmarks/EdgeNet.KernelBenchmarks -- --profile MODEL.onnx [NAME=1x3x224x224] [--threads 2]
//   dotnet run -c Release --project benchmarks/EdgeNet.KernelBenchmarks -- --conv [NAME]   (single Conv nodes of mobile-net shapes)
//   dotnet run -c Release --project benchmarks/EdgeNet.KernelBenchmarks -- --dw   (depthwise kernels on mobile-net shapes)
//   dotnet run -c Release --project benchmarks/EdgeNet.KernelBenchmarks -- --pool [NAME]   (MaxPool nodes of openWakeWord's embedding model)
//   dotnet run -c Release --project benchmarks/EdgeNet.KernelBenchmarks -- --mac-peak   (register-only MAC ceilings: int8 vs fp32)
//   ... -- --int8-layers QDQ.onnx FP32.onnx [--rounds N]   (int8 vs fp32 per layer, the two plans alternating)
//   ... -- --int8-e2e QDQ.onnx FP32.onnx [RUNS]   (whole-model int8 vs fp32, alternating run by run)
//   ... -- --int8-conv CIN H W COUT [K] [STRIDE] [ROUNDS]   (one int8 conv on the session ISA's variant; COUT 0: depthwise)
//   ... -- --train-step MODEL.onnx [--trainable-last N] [--classes C] [--batch B]   (one training step by phase, µs)
//   ... -- --train-gemms [K] [N] [BATCH]   (a first trained layer's products and update, each alone, µs of thread CPU time)
// The GFLOP/s column divides each case's 2·M·N·K (or the FMA loop's FLOPs) by its mean time; --ratio times the
// FMA peak and the GEMMs back to back (see PeakRatio).
if (args.Length > 0 && args[0] == "--profile")
{
    ModelProfile.Run(args[1..]);
    return;
}
if (args.Length > 0 && args[0] == "--pool")
{
    PoolBench.Run(args[1..]);
    return;
}
if (args.Length > 0 && args[0] == "--train-step")
{
    TrainStepBench.Run(args[1..]);
    return;
}
if (args.Length > 0 && args[0] == "--train-gemms")
{
    TrainGemmParts.Run(args[1..]);
    return;
}
if (args.Length > 0 && args[0] == "--conv")
{
    ConvBench.Run(args[1..]);
    return;
}
if (args.Length > 0 && args[0] == "--dw")
{
    DepthwiseBench.Run(args[1..]);
    return;
}
if (args.Length > 0 && args[0] == "--int8")
{
    Int8Ratio.Run(args[1..]);
    return;
}
if (args.Length > 0 && args[0] == "--int8-layers")
{
    Int8LayerProfile.Run(args[1..]);
    return;
}
if (args.Length > 0 && args[0] == "--int8-conv")
{
    Int8ConvBench.Run(args[1..]);
    return;
}
if (args.Length > 0 && args[0] == "--int8-e2e")
{
    Int8EndToEnd.Run(args[1..]);
    return;
}
if (args.Length > 0 && args[0] == "--mac-peak")
{
    MacPeak.Run();
    return;
}
if (args.Length > 0 && args[0] == "--ratio")
{
    PeakRatio.Run(args[1..]);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(GemmBenchmarks).Assembly).Run(args);
