using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using EdgeNet.Kernels;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace EdgeNet.Arm64Runner;

/// <summary>
/// A small in-process xunit runner for EdgeNet.Tests. Under qemu-aarch64 there is no `dotnet test` (its testhost and
/// vstest sockets are for the host machine), so scripts/arm64.sh publishes this self-contained for linux-arm64 and runs
/// the classes it names. Supports what EdgeNet's tests use: [Fact], [Theory] with any xunit DataAttribute
/// ([InlineData], [MemberData], [ClassData]), Skip, IClassFixture, ITestOutputHelper, IDisposable, IAsyncLifetime,
/// async tests. Prints PASS/FAIL per test case and, last, "N passed, N failed"; the exit code is 1 when any failed.
/// </summary>
public static class Program
{
    private const string Usage =
        "usage: EdgeNet.Arm64Runner [--class PATTERN ...] [--case PATTERN ...] [--models DIR] [--list]\n" +
        "  --class PATTERN   run the test classes whose full name contains PATTERN (e.g. Kernels, RealModels.IsaParity)\n" +
        "  --case PATTERN    run the test cases whose name (Namespace.Class.Method(arguments)) contains PATTERN\n" +
        "  (a case runs when it matches any --class or --case; a pattern that matches nothing is noted, not failed)\n" +
        "  --models DIR      the models folder (default: models/ of the repository, found upward or via EDGENET_REPO_ROOT)\n" +
        "  --list            list the matching test cases without running them";

    public static int Main(string[] args)
    {
        var classPatterns = new List<string>();
        var casePatterns = new List<string>();
        bool list = false;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{arg} needs a value");
            try
            {
                switch (arg)
                {
                    case "--class": classPatterns.Add(Next()); break;
                    case "--case": casePatterns.Add(Next()); break;
                    case "--models": Environment.SetEnvironmentVariable("EDGENET_MODELS", Path.GetFullPath(Next())); break;
                    case "--list": list = true; break;
                    case "-h" or "--help": Console.WriteLine(Usage); return 0;
                    default: throw new ArgumentException($"unknown argument '{arg}'");
                }
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine(e.Message);
                Console.Error.WriteLine(Usage);
                return 2;
            }
        }
        if (classPatterns.Count == 0 && casePatterns.Count == 0)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }

        PrintCpu();
        var selection = new Selection(classPatterns, casePatterns);
        var classes = Assembly.Load(new AssemblyName("EdgeNet.Tests")).GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false, IsPublic: true })
            .Where(t => t.GetMethods().Any(m => m.GetCustomAttribute<FactAttribute>() is not null))
            .Where(selection.MayRunIn)
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .ToList();

        var totals = new Totals();
        var clock = Stopwatch.StartNew();
        foreach (var type in classes) RunClass(type, selection, list, totals);
        // Kernel sweep classes appear as the NEON work lands: a pattern that selects nothing yet is reported, not failed.
        foreach (string pattern in selection.Unmatched) Console.WriteLine($"note: nothing matches '{pattern}'");
        if (list)
        {
            Console.WriteLine($"{totals.Listed} test cases in {totals.Classes} classes");
            return 0;
        }
        Console.WriteLine($"{totals.Classes} classes in {clock.Elapsed.TotalSeconds:F1} s; isa {IsaName()}; {totals.Skipped} skipped");
        Console.WriteLine($"{totals.Passed} passed, {totals.Failed} failed");
        if (totals.Passed + totals.Failed == 0)
        {
            Console.Error.WriteLine("no test ran");
            return 2;
        }
        return totals.Failed == 0 ? 0 : 1;
    }

    private sealed class Totals
    {
        public int Passed, Failed, Skipped, Listed, Classes;
    }

    /// <summary>
    /// Which test cases run: every case of a class whose full name contains a --class pattern, and every case whose
    /// name (Namespace.Class.Method(arguments)) contains a --case pattern.
    /// </summary>
    private sealed class Selection(List<string> classPatterns, List<string> casePatterns)
    {
        private readonly HashSet<string> _matched = new(StringComparer.Ordinal);

        public IEnumerable<string> Unmatched => classPatterns.Concat(casePatterns).Where(p => !_matched.Contains(p)).Distinct();

        /// <summary>Whether some case of the class may be selected (saves enumerating every theory's data under qemu).</summary>
        public bool MayRunIn(Type type) =>
            classPatterns.Any(p => type.FullName!.Contains(p, StringComparison.Ordinal)) ||
            type.GetMethods().Where(m => m.GetCustomAttribute<FactAttribute>() is not null).Any(m => MayRun(type, m.Name));

        /// <summary>Whether a case of this method may be selected, before its arguments are known.</summary>
        public bool MayRun(Type type, string methodName) =>
            classPatterns.Any(p => type.FullName!.Contains(p, StringComparison.Ordinal)) ||
            casePatterns.Any(p => p.IndexOf('(', StringComparison.Ordinal) is var paren && (paren < 0 ||
                ($"{type.FullName}.{methodName}").Contains(p[..paren], StringComparison.Ordinal)));

        public bool Runs(Type type, string caseName)
        {
            bool runs = false;
            foreach (string p in classPatterns)
                if (type.FullName!.Contains(p, StringComparison.Ordinal)) { _matched.Add(p); runs = true; }
            foreach (string p in casePatterns)
                if (caseName.Contains(p, StringComparison.Ordinal)) { _matched.Add(p); runs = true; }
            return runs;
        }
    }

    /// <summary>The log line that proves which SIMD features the (emulated) CPU gave .NET, and so which path ran.</summary>
    private static void PrintCpu()
    {
        Console.WriteLine(
            $"runtime: {RuntimeInformation.FrameworkDescription} {RuntimeInformation.ProcessArchitecture}, {Environment.ProcessorCount} cpus");
        Console.WriteLine(
            $"features: AdvSimd={AdvSimd.IsSupported} AdvSimd.Arm64={AdvSimd.Arm64.IsSupported} Dp={Dp.IsSupported} " +
            $"Rdm={Rdm.IsSupported} Crc32={Crc32.IsSupported} Aes={Aes.IsSupported}");
        Console.WriteLine(
            $"isa: best={IsaSupport.Best} available=[{string.Join(", ", IsaSupport.Available)}] " +
            $"{IsaSupport.EnvironmentVariable}={Environment.GetEnvironmentVariable(IsaSupport.EnvironmentVariable) ?? "(unset)"} " +
            $"sessions use {IsaName()}");
        // Tier-0 and fully optimized code are different machine code for the same intrinsics: say which one ran.
        Console.WriteLine(Environment.GetEnvironmentVariable("DOTNET_TieredCompilation") == "0"
            ? "jit: fully optimizing only (DOTNET_TieredCompilation=0)"
            : "jit: tiered (tier-0, then optimized when hot)");
    }

    private static string IsaName()
    {
        try { return IsaSupport.Resolve().ToString(); }
        catch (InvalidModelException e) { return "error: " + e.Message; }
    }

    private static void RunClass(Type type, Selection selection, bool list, Totals totals)
    {
        var methods = type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
            .Where(m => m.GetCustomAttribute<FactAttribute>() is not null)
            .OrderBy(m => m.MetadataToken)
            .ToList();
        if (methods.Count == 0) return;

        var fixtures = new Dictionary<Type, object>();
        var clock = Stopwatch.StartNew();
        int failedBefore = totals.Failed, passedBefore = totals.Passed, selected = 0;
        try
        {
            foreach (var method in methods)
            {
                if (!selection.MayRun(type, method.Name)) continue;
                var fact = method.GetCustomAttribute<FactAttribute>()!;
                string name = $"{type.FullName}.{method.Name}";
                var cases = new List<(string Name, object?[] Row, string? Skip)>();
                if (fact is not TheoryAttribute) cases.Add((name, [], fact.Skip));
                else
                {
                    try
                    {
                        foreach (var data in method.GetCustomAttributes<DataAttribute>())
                            foreach (object?[] row in data.GetData(method))
                                cases.Add(($"{name}({string.Join(", ", row.Select(Format))})", row, fact.Skip ?? data.Skip));
                        if (cases.Count == 0) throw new InvalidOperationException("theory has no data");
                    }
                    catch (Exception e)
                    {
                        Fail(name + "(data)", Unwrap(e), null, totals);
                        continue;
                    }
                }
                foreach (var (caseName, row, skip) in cases)
                {
                    if (!selection.Runs(type, caseName)) continue;
                    selected++;
                    if (list) { Console.WriteLine(caseName); totals.Listed++; }
                    else if (skip is not null) { Console.WriteLine($"SKIP {caseName}: {skip}"); totals.Skipped++; }
                    else RunCase(type, method, row, caseName, fixtures, totals);
                }
            }
        }
        finally
        {
            foreach (var fixture in fixtures.Values) (fixture as IDisposable)?.Dispose();
        }
        if (selected > 0) totals.Classes++;
        if (!list && totals.Passed + totals.Failed > passedBefore + failedBefore)
            Console.WriteLine($"class {type.FullName}: {totals.Passed - passedBefore} passed, {totals.Failed - failedBefore} failed " +
                              $"in {clock.Elapsed.TotalSeconds:F1} s");
    }

    private static void RunCase(Type type, MethodInfo method, object?[] row, string name, Dictionary<Type, object> fixtures, Totals totals)
    {
        var output = new OutputHelper();
        var clock = Stopwatch.StartNew();
        object? instance = null;
        try
        {
            var arguments = Arguments(method, row);
            if (!method.IsStatic) instance = Construct(type, output, fixtures);
            if (instance is IAsyncLifetime life) life.InitializeAsync().GetAwaiter().GetResult();
            try
            {
                Await(method.Invoke(instance, arguments));
            }
            finally
            {
                if (instance is IAsyncLifetime done) done.DisposeAsync().GetAwaiter().GetResult();
                if (instance is IAsyncDisposable asyncDisposable) asyncDisposable.DisposeAsync().AsTask().GetAwaiter().GetResult();
                else (instance as IDisposable)?.Dispose();
            }
            Console.WriteLine($"PASS {name} [{clock.ElapsedMilliseconds} ms]");
            totals.Passed++;
        }
        catch (Exception e)
        {
            Fail(name, Unwrap(e), output, totals);
        }
    }

    private static void Fail(string name, Exception e, OutputHelper? output, Totals totals)
    {
        Console.WriteLine($"FAIL {name}");
        Console.WriteLine($"  {e.GetType().Name}: {e.Message.Replace("\n", "\n  ", StringComparison.Ordinal)}");
        foreach (string line in (e.StackTrace ?? "").Split('\n').Take(8)) Console.WriteLine("  " + line.TrimEnd());
        if (output?.Text is { Length: > 0 } text) Console.WriteLine("  output:\n    " + text.TrimEnd().Replace("\n", "\n    ", StringComparison.Ordinal));
        totals.Failed++;
    }

    private static Exception Unwrap(Exception e)
    {
        while (e is TargetInvocationException { InnerException: { } inner }) e = inner;
        return e;
    }

    private static void Await(object? result)
    {
        switch (result)
        {
            case Task task: task.GetAwaiter().GetResult(); break;
            case ValueTask valueTask: valueTask.AsTask().GetAwaiter().GetResult(); break;
        }
    }

    /// <summary>A new instance per test case, as xunit does; constructor parameters are class fixtures or the output helper.</summary>
    private static object Construct(Type type, OutputHelper output, Dictionary<Type, object> fixtures)
    {
        var ctor = type.GetConstructors().OrderByDescending(c => c.GetParameters().Length).FirstOrDefault()
                   ?? throw new InvalidOperationException($"{type} has no public constructor");
        var parameters = ctor.GetParameters();
        var values = new object?[parameters.Length];
        for (int i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i].ParameterType;
            if (p == typeof(ITestOutputHelper)) values[i] = output;
            else if (type.GetInterfaces().Any(x => x.IsGenericType && x.GetGenericTypeDefinition() == typeof(IClassFixture<>) && x.GetGenericArguments()[0] == p))
            {
                if (!fixtures.TryGetValue(p, out var fixture)) fixtures[p] = fixture = Activator.CreateInstance(p)!;
                values[i] = fixture;
            }
            else throw new NotSupportedException($"{type.Name}: constructor parameter of type {p.Name} is not supported by this runner");
        }
        return ctor.Invoke(values);
    }

    /// <summary>Fits a data row to the method: optional parameters take their defaults, a trailing params array is packed.</summary>
    private static object?[] Arguments(MethodInfo method, object?[] row)
    {
        var parameters = method.GetParameters();
        if (method.IsGenericMethodDefinition) throw new NotSupportedException("generic theories are not supported by this runner");
        var args = new object?[parameters.Length];
        bool hasParams = parameters.Length > 0 && parameters[^1].GetCustomAttribute<ParamArrayAttribute>() is not null;
        if (hasParams && !(row.Length == parameters.Length && (row[^1] is null || parameters[^1].ParameterType.IsInstanceOfType(row[^1]))))
        {
            int fixedCount = parameters.Length - 1;
            if (row.Length < fixedCount) throw new ArgumentException($"{row.Length} values for {parameters.Length} parameters");
            var elementType = parameters[^1].ParameterType.GetElementType()!;
            var packed = Array.CreateInstance(elementType, row.Length - fixedCount);
            for (int i = 0; i < packed.Length; i++) packed.SetValue(Convert(row[fixedCount + i], elementType), i);
            for (int i = 0; i < fixedCount; i++) args[i] = Convert(row[i], parameters[i].ParameterType);
            args[^1] = packed;
            return args;
        }
        if (row.Length > parameters.Length) throw new ArgumentException($"{row.Length} values for {parameters.Length} parameters");
        for (int i = 0; i < parameters.Length; i++)
        {
            if (i < row.Length) args[i] = Convert(row[i], parameters[i].ParameterType);
            else if (parameters[i].HasDefaultValue) args[i] = parameters[i].DefaultValue;
            else throw new ArgumentException($"{row.Length} values for {parameters.Length} parameters");
        }
        return args;
    }

    /// <summary>The conversions attribute data needs beyond what reflection's Invoke widens by itself.</summary>
    private static object? Convert(object? value, Type target)
    {
        if (value is null || target.IsInstanceOfType(value)) return value;
        var underlying = Nullable.GetUnderlyingType(target) ?? target;
        if (underlying.IsEnum && value is not Enum) return Enum.ToObject(underlying, value);
        if (value is IConvertible && underlying.IsPrimitive) return System.Convert.ChangeType(value, underlying, CultureInfo.InvariantCulture);
        return value;
    }

    private static string Format(object? value) => value switch
    {
        null => "null",
        string s => '"' + s + '"',
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        Array a => "[" + string.Join(", ", a.Cast<object?>().Take(8).Select(Format)) + (a.Length > 8 ? ", ..." : "") + "]",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    private sealed class OutputHelper : ITestOutputHelper
    {
        private readonly System.Text.StringBuilder _text = new();
        public string Text => _text.ToString();
        public void WriteLine(string message) => _text.AppendLine(message);
        public void WriteLine(string format, params object[] args) => _text.AppendLine(string.Format(CultureInfo.InvariantCulture, format, args));
    }
}
