using BenchmarkDotNet.Running;

// Kernel micro-benchmarks (BenchmarkDotNet). Examples:
//   dotnet run -c Release --project benchmarks/EdgeNet.KernelBenchmarks -- --filter '*Gemm*'
//   dotnet run -c Release --project benchmarks/EdgeNet.KernelBenchmarks -- --filter '*' --job short
// The GFLOP/s column divides each case's 2·M·N·K (or the FMA loop's FLOPs) by its mean time.
BenchmarkSwitcher.FromAssembly(typeof(EdgeNet.KernelBenchmarks.GemmBenchmarks).Assembly).Run(args);
