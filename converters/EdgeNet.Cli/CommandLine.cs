namespace EdgeNet.Cli;

/// <summary>Entry point of the edgenet tool; commands are added by the CLI work.</summary>
internal static class CommandLine
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("usage: edgenet run|test-data|bench|inspect|convert ...");
        return args.Length == 0 ? 2 : 2;
    }
}
