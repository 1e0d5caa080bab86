using EdgeNet.Samples.CameraClassifier;

// cameraclassifier MODEL (--camera /dev/videoN | --folder DIR) [options]: top-k classes per frame, optional GPIO LED.
return CameraClassifierApp.Run(args, Console.Out, Console.Error, handleCtrlC: true);
