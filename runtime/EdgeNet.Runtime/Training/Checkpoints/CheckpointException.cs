namespace EdgeNet.Training.Checkpoints;

/// <summary>A checkpoint file is torn or corrupt, or a folder holds no usable checkpoint.</summary>
public sealed class CheckpointException(string message, Exception? inner = null) : EdgeNetException(message, inner);
