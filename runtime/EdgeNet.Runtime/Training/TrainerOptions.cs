using EdgeNet.Kernels;
using EdgeNet.Training.Optimizers;

namespace EdgeNet.Training;

public enum OptimizerKind { Sgd, Adam }
public enum HeadInit { Xavier, He }
public enum LossKind { Auto, SoftmaxCrossEntropy, SigmoidBinaryCrossEntropy, MeanSquaredError }

/// <summary>Which part of the model is trained, and whether it gets a new head.</summary>
public sealed class FineTuneSetup
{
    /// <summary>Tensor the (new) head is attached to; null: the input of the model's last weight layer (the tensor feeding its final Gemm/MatMul).</summary>
    public string? Feature { get; init; }
    /// <summary>Replace the head by a new Dense layer (+ Softmax) with this many classes; null keeps and continues the existing head.</summary>
    public int? NewHeadClasses { get; init; }
    /// <summary>Weight layers (Gemm, MatMul, Conv) trained, counted back from the output, the new head included. At least 1.</summary>
    public int TrainableLast { get; init; } = 1;
    /// <summary>Or: train everything from this tensor on (overrides <see cref="TrainableLast"/>).</summary>
    public string? TrainFrom { get; init; }
    public HeadInit HeadInit { get; init; } = HeadInit.Xavier;
    /// <summary>Concrete input shapes (batch 1) for inputs with symbolic dims, e.g. x → [1, 3, 48, 48].</summary>
    public Dictionary<string, int[]> InputShapes { get; } = new(StringComparer.Ordinal);
    public LossKind Loss { get; init; } = LossKind.Auto;
}

/// <summary>How <see cref="Trainer.Fit(FeatureSet, FeatureSet?)"/> trains (Keras-like defaults).</summary>
public sealed class TrainerOptions
{
    public int Epochs { get; init; } = 20;
    public int BatchSize { get; init; } = 32;
    public float LearningRate { get; init; } = 0.01f;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Sgd;
    public float Momentum { get; init; } = 0.9f;
    public bool Nesterov { get; init; }
    public float WeightDecay { get; init; }
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;
    /// <summary>Clip the global gradient norm to this (0: off).</summary>
    public float ClipNorm { get; init; }
    public int Seed { get; init; }
    /// <summary>Fraction of the training samples held out for validation when no validation set is given.</summary>
    public double ValidationSplit { get; init; }
    /// <summary>Stop after this many epochs without a better validation loss and restore the best weights (0: off).</summary>
    public int EarlyStoppingPatience { get; init; }
    public bool Shuffle { get; init; } = true;
    public bool TrainBatchNorm { get; init; }
    /// <summary>
    /// Decay of an exponential moving average of the trained weights (Keras' <c>ema_momentum</c> with
    /// <c>use_ema</c>), updated after every accepted step; 0: off. When on, validation, early stopping and the
    /// weights Fit leaves in the model are the average's (<see cref="Optimizers.WeightAverage"/>).
    /// </summary>
    public float EmaDecay { get; init; }
    public Isa? Isa { get; init; }
}

/// <summary>One epoch of <see cref="Trainer.Fit(FeatureSet, FeatureSet?)"/>. Validation figures are NaN without validation data.</summary>
public sealed record EpochResult(int Epoch, double Loss, double Accuracy, double ValidationLoss, double ValidationAccuracy,
    float LearningRate, double Seconds, int RejectedSteps);

/// <summary>What Fit did: the epochs, and where early stopping ended (the weights are those of <see cref="BestEpoch"/> when it did).</summary>
public sealed record FitResult(IReadOnlyList<EpochResult> Epochs, bool StoppedEarly, int BestEpoch);

/// <summary>Why a step was rejected (weights untouched).</summary>
public enum RejectReason { InputNotFinite, LossNotFinite, GradientNotFinite }

/// <summary>A rejected step: which, and why.</summary>
public readonly record struct StepRejection(long Step, RejectReason Reason);

/// <summary>Loss, accuracy and the predicted class of every sample.</summary>
public sealed record EvaluationResult(double Loss, double Accuracy, int[] Predictions, int[] Labels);
