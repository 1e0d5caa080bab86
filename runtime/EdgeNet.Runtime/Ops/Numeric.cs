using System.Numerics;
using EdgeNet.Execution;
using EdgeNet.IR;

namespace EdgeNet.Ops;

/// <summary>Builds a kernel for one concrete numeric element type (a generic "visitor" over DataType).</summary>
public interface INumericKernelFactory
{
    Kernel Create<T>() where T : unmanaged, INumber<T>;
}

public interface IFloatKernelFactory
{
    Kernel Create<T>() where T : unmanaged, IFloatingPointIeee754<T>;
}

public static class Numeric
{
    public static Kernel Create<TFactory>(DataType type, TFactory factory, Node node) where TFactory : INumericKernelFactory => type switch
    {
        DataType.Float32 => factory.Create<float>(),
        DataType.Float64 => factory.Create<double>(),
        DataType.Float16 => factory.Create<Half>(),
        DataType.Int8 => factory.Create<sbyte>(),
        DataType.UInt8 => factory.Create<byte>(),
        DataType.Int16 => factory.Create<short>(),
        DataType.UInt16 => factory.Create<ushort>(),
        DataType.Int32 => factory.Create<int>(),
        DataType.UInt32 => factory.Create<uint>(),
        DataType.Int64 => factory.Create<long>(),
        DataType.UInt64 => factory.Create<ulong>(),
        _ => throw UnsupportedOperatorException.For(node, $"element type {type} is not supported"),
    };

    public static Kernel CreateFloat<TFactory>(DataType type, TFactory factory, Node node) where TFactory : IFloatKernelFactory => type switch
    {
        DataType.Float32 => factory.Create<float>(),
        DataType.Float64 => factory.Create<double>(),
        DataType.Float16 => factory.Create<Half>(),
        _ => throw UnsupportedOperatorException.For(node, $"element type {type} is not supported (floating point only)"),
    };

    public static bool IsFloat(DataType t) => t is DataType.Float32 or DataType.Float64 or DataType.Float16;
}
