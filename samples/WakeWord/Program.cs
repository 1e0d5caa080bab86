using EdgeNet.Samples.WakeWord;

// wakeword WAV [--models DIR] [--threshold T] [--words a,b,c] : prints wake-word scores every 80 ms and the detections.
// wakeword --mic alsa:default|wav:PATH [...] streams from a microphone or its WAV stand-in; --gpio-pin/--gpio-file light an LED.
return WakeWordApp.Run(args, Console.Out, Console.Error, handleCtrlC: true);
