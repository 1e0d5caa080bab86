namespace EdgeNet.Kernels.Quantized;

/// <summary>Where the channel of a quantized GEMM output lies.</summary>
public enum QGemmOrientation
{
    /// <summary>MatMul: C[M×N] = A[M×K] · W[K×N]; the channel is the column, activations are the rows.</summary>
    WeightsRight,
    /// <summary>NCHW conv: C[Cout×N] = W[Cout×K] · X[K×N]; the channel is the row, activations (im2col) the columns.</summary>
    WeightsLeft,
}

/// <summary>
/// The triple-loop oracle of every quantized GEMM path: acc = Σ_k (a_u8 − a_zp)(w_s8 − w_zp[ch]) in int32, then the
/// <see cref="QEpilogue"/>. Operands are addressed by strides, so the same loop checks MatMul and conv orientations.
/// </summary>
public static unsafe class QGemmReference
{
    /// <summary>
    /// C[i·ldc + j] for i &lt; m, j &lt; n. Activation element (pos, kk) = act[pos·actPosStride + kk·actKStride];
    /// weight element (ch, kk) = w[ch·wChStride + kk·wKStride]. With <see cref="QGemmOrientation.WeightsRight"/>
    /// pos = i, ch = j; with WeightsLeft ch = i, pos = j. Zero points are in each operand's own domain
    /// (int8 data: −128..127); weightZeroPoints has one entry or one per channel (wZpStride 0 or 1).
    /// </summary>
    public static void Run(QGemmOrientation orientation, int m, int n, int k,
        byte* act, nint actPosStride, nint actKStride, bool actSigned, int actZeroPoint,
        byte* w, nint wChStride, nint wKStride, bool wSigned, int* weightZeroPoints, int wZpStride,
        QOutputKind output, void* c, nint ldc, in QEpilogue e)
    {
        int za = actSigned ? actZeroPoint + 128 : actZeroPoint;
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                int pos = orientation == QGemmOrientation.WeightsRight ? i : j;
                int ch = orientation == QGemmOrientation.WeightsRight ? j : i;
                int zwRaw = weightZeroPoints is null ? 0 : weightZeroPoints[ch * wZpStride];
                int zw = wSigned ? zwRaw : zwRaw - 128;
                int acc = 0;
                for (int kk = 0; kk < k; kk++)
                {
                    int a = QMath.ActivationU8(act[pos * actPosStride + kk * actKStride], actSigned);
                    int wv = QMath.WeightS8(w[ch * wChStride + kk * wKStride], wSigned);
                    acc += (a - za) * (wv - zw);
                }
                Store(output, c, i * ldc + j, acc, ch, e);
            }
    }

    /// <summary>Adds the bias and writes one output element (shared by the conv reference).</summary>
    public static void Store(QOutputKind output, void* c, nint index, int acc, int ch, in QEpilogue e)
    {
        if (e.Bias is not null) acc = unchecked(acc + e.Bias[ch]);
        switch (output)
        {
            case QOutputKind.Int32: ((int*)c)[index] = acc; break;
            case QOutputKind.UInt8:
                ((byte*)c)[index] = (byte)QMath.Requantize(acc, e.Multiplier[ch * e.MultiplierStride], e.ZeroPoint, e.QMin, e.QMax);
                break;
            case QOutputKind.Int8:
                ((sbyte*)c)[index] = (sbyte)QMath.Requantize(acc, e.Multiplier[ch * e.MultiplierStride], e.ZeroPoint, e.QMin, e.QMax);
                break;
            default:
                float y = (float)acc * e.Multiplier[ch * e.MultiplierStride];
                if (e.FloatBias is not null) y += e.FloatBias[ch];
                ((float*)c)[index] = y;
                break;
        }
    }
}
