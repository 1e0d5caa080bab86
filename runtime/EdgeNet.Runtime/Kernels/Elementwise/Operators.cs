using System.Numerics;

namespace EdgeNet.Kernels.Elementwise;

public enum ArithmeticKind { Add, Sub, Mul, Div, Max, Min, Mod, FMod, Pow, BitShiftLeft, BitShiftRight, PRelu }

/// <summary>Binary arithmetic over any numeric type (the scalar reference; the kind is fixed per kernel so the branch predicts).</summary>
public readonly struct Arithmetic<T>(ArithmeticKind kind) : IBinaryOperator<T, T> where T : unmanaged, INumber<T>
{
    public T Invoke(T a, T b) => kind switch
    {
        ArithmeticKind.Add => a + b,
        ArithmeticKind.Sub => a - b,
        ArithmeticKind.Mul => a * b,
        ArithmeticKind.Div => Divide(a, b),
        ArithmeticKind.Max => T.IsNaN(a) || T.IsNaN(b) ? a + b : T.Max(a, b),
        ArithmeticKind.Min => T.IsNaN(a) || T.IsNaN(b) ? a + b : T.Min(a, b),
        ArithmeticKind.FMod => b == T.Zero && T.IsInteger(a) ? T.Zero : a % b,
        ArithmeticKind.Mod => PythonMod(a, b),
        ArithmeticKind.Pow => Power(a, b),
        ArithmeticKind.PRelu => T.IsNegative(a) ? a * b : a,
        ArithmeticKind.BitShiftLeft => T.CreateTruncating(ulong.CreateTruncating(a) << int.CreateTruncating(b)),
        ArithmeticKind.BitShiftRight => T.CreateTruncating(ulong.CreateTruncating(a) >> int.CreateTruncating(b)),
        _ => a,
    };

    private static T Divide(T a, T b)
    {
        if (b == T.Zero && IsIntegerType) return T.Zero; // ONNX leaves it undefined; never trap
        return a / b;
    }

    private static bool IsIntegerType => typeof(T) != typeof(float) && typeof(T) != typeof(double) && typeof(T) != typeof(Half);

    /// <summary>Integer mod with the sign of the divisor (ONNX Mod, fmod = 0).</summary>
    private static T PythonMod(T a, T b)
    {
        if (b == T.Zero) return T.Zero;
        T r = a % b;
        if (r != T.Zero && (T.IsNegative(r) != T.IsNegative(b))) r += b;
        return r;
    }

    private static T Power(T a, T b) => T.CreateTruncating(Math.Pow(double.CreateTruncating(a), double.CreateTruncating(b)));
}

public enum CompareKind { Equal, Greater, Less, GreaterOrEqual, LessOrEqual }

/// <summary>Comparisons produce bool stored as one byte (0/1).</summary>
public readonly struct Compare<T>(CompareKind kind) : IBinaryOperator<T, byte> where T : unmanaged, INumber<T>
{
    public byte Invoke(T a, T b) => (kind switch
    {
        CompareKind.Equal => a == b,
        CompareKind.Greater => a > b,
        CompareKind.Less => a < b,
        CompareKind.GreaterOrEqual => a >= b,
        _ => a <= b,
    }) ? (byte)1 : (byte)0;
}

public enum LogicalKind { And, Or, Xor }

public readonly struct Logical(LogicalKind kind) : IBinaryOperator<byte, byte>
{
    public byte Invoke(byte a, byte b) => (kind switch
    {
        LogicalKind.And => a != 0 && b != 0,
        LogicalKind.Or => a != 0 || b != 0,
        _ => (a != 0) != (b != 0),
    }) ? (byte)1 : (byte)0;
}

public enum UnaryKind
{
    Abs, Neg, Sqrt, Exp, Log, Reciprocal, Floor, Ceil, Round, Sign, Erf, Sin, Cos, Tan, Asin, Acos, Atan,
    Sinh, Cosh, Asinh, Acosh, Atanh, Relu, LeakyRelu, Elu, Selu, Celu, Sigmoid, Tanh, HardSigmoid, HardSwish,
    Softplus, Softsign, ThresholdedRelu, Shrink, Clip, Swish, Gelu, GeluTanh, Mish,
}

/// <summary>Unary math and activations over floating-point types; Alpha/Beta/Gamma carry the op's attributes.</summary>
public readonly struct FloatUnary<T>(UnaryKind kind, double alpha = 0, double beta = 0, double gamma = 0) : IUnaryOperator<T, T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T _alpha = T.CreateTruncating(alpha);
    private readonly T _beta = T.CreateTruncating(beta);
    private readonly T _gamma = T.CreateTruncating(gamma);

    public T Invoke(T x) => kind switch
    {
        UnaryKind.Abs => T.Abs(x),
        UnaryKind.Neg => -x,
        UnaryKind.Sqrt => T.Sqrt(x),
        UnaryKind.Exp => T.Exp(x),
        UnaryKind.Log => T.Log(x),
        UnaryKind.Reciprocal => T.One / x,
        UnaryKind.Floor => T.Floor(x),
        UnaryKind.Ceil => T.Ceiling(x),
        UnaryKind.Round => T.Round(x, MidpointRounding.ToEven),
        UnaryKind.Sign => T.IsNaN(x) ? x : T.CreateTruncating(T.Sign(x)),
        UnaryKind.Erf => T.CreateTruncating(ErrorFunction.Erf(double.CreateTruncating(x))),
        UnaryKind.Sin => T.Sin(x),
        UnaryKind.Cos => T.Cos(x),
        UnaryKind.Tan => T.Tan(x),
        UnaryKind.Asin => T.Asin(x),
        UnaryKind.Acos => T.Acos(x),
        UnaryKind.Atan => T.Atan(x),
        UnaryKind.Sinh => T.Sinh(x),
        UnaryKind.Cosh => T.Cosh(x),
        UnaryKind.Asinh => T.Asinh(x),
        UnaryKind.Acosh => T.Acosh(x),
        UnaryKind.Atanh => T.Atanh(x),
        UnaryKind.Relu => x > T.Zero ? x : T.Zero,
        UnaryKind.LeakyRelu => x >= T.Zero ? x : _alpha * x,
        UnaryKind.Elu => x >= T.Zero ? x : _alpha * (T.Exp(x) - T.One),
        UnaryKind.Selu => x > T.Zero ? _gamma * x : _gamma * (_alpha * T.Exp(x) - _alpha),
        UnaryKind.Celu => T.Max(T.Zero, x) + T.Min(T.Zero, _alpha * (T.Exp(x / _alpha) - T.One)),
        UnaryKind.Sigmoid => Sigmoid(x),
        UnaryKind.Tanh => T.Tanh(x),
        UnaryKind.HardSigmoid => T.Max(T.Zero, T.Min(T.One, _alpha * x + _beta)),
        UnaryKind.HardSwish => x * T.Max(T.Zero, T.Min(T.One, x / T.CreateTruncating(6) + T.CreateTruncating(0.5))),
        UnaryKind.Softplus => x > T.CreateTruncating(20) ? x : T.Log(T.Exp(x) + T.One),
        UnaryKind.Softsign => x / (T.One + T.Abs(x)),
        UnaryKind.ThresholdedRelu => x > _alpha ? x : T.Zero,
        UnaryKind.Shrink => x < -_beta ? x + _alpha : x > _beta ? x - _alpha : T.Zero,
        UnaryKind.Clip => T.IsNaN(x) ? x : T.Min(T.Max(x, _alpha), _beta),
        UnaryKind.Swish => x * Sigmoid(x),
        UnaryKind.Gelu => x * T.CreateTruncating(0.5) * (T.One + T.CreateTruncating(ErrorFunction.Erf(double.CreateTruncating(x) / Math.Sqrt(2)))),
        UnaryKind.GeluTanh => x * T.CreateTruncating(0.5) * (T.One + T.Tanh(T.CreateTruncating(Math.Sqrt(2 / Math.PI)) * (x + T.CreateTruncating(0.044715) * x * x * x))),
        UnaryKind.Mish => x * T.Tanh(x > T.CreateTruncating(20) ? x : T.Log(T.Exp(x) + T.One)),
        _ => x,
    };

    private static T Sigmoid(T x) => x >= T.Zero ? T.One / (T.One + T.Exp(-x)) : T.Exp(x) / (T.One + T.Exp(x));
}

/// <summary>Abs, Neg, Sign, Clip, Relu for integer types.</summary>
public readonly struct IntegerUnary<T>(UnaryKind kind, T min, T max) : IUnaryOperator<T, T> where T : unmanaged, INumber<T>
{
    public T Invoke(T x) => kind switch
    {
        UnaryKind.Abs => T.Abs(x),
        UnaryKind.Neg => -x,
        UnaryKind.Sign => T.CreateTruncating(T.Sign(x)),
        UnaryKind.Relu => T.Max(x, T.Zero),
        UnaryKind.Clip => T.Min(T.Max(x, min), max),
        _ => x,
    };
}

/// <summary>erf(x) to about 1e-15 relative: series for small |x|, continued fraction complement otherwise.</summary>
public static class ErrorFunction
{
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        if (ax < 2.5)
        {
            // Maclaurin series: erf x = 2/√π Σ (−1)^n x^(2n+1) / (n! (2n+1))
            double sum = 0, term = x;
            for (int n = 0; n < 60; n++)
            {
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
                term *= -x * x / (n + 1);
            }
            return 2 / Math.Sqrt(Math.PI) * sum;
        }
        if (ax > 6) return Math.Sign(x);
        // Continued fraction for erfc (Lentz): erfc x = e^(−x²)/√π · 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...))))
        double f = ax, c = ax, d = 0, tiny = 1e-300;
        for (int k = 1; k < 200; k++)
        {
            double a = k / 2.0;
            d = ax + a * d; if (Math.Abs(d) < tiny) d = tiny; d = 1 / d;
            c = ax + a / c; if (Math.Abs(c) < tiny) c = tiny;
            double delta = c * d;
            f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        double erfc = Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / f;
        return Math.Sign(x) * (1 - erfc);
    }
}
