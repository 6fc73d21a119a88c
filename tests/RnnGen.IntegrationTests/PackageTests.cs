using System.IO.Compression;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using System.Runtime.Versioning;
using System.Xml.Linq;

namespace RnnGen.IntegrationTests;

/// <summary>The layout and metadata of the package <c>dotnet pack src/RnnGen</c> produces.</summary>
[Collection(IntegrationCollection.Name)]
public sealed class PackageTests(IntegrationFixture fixture, ITestOutputHelper output)
{
    [Fact]
    public void Package_HoldsTheRuntimeInLib_AndTheGeneratorInAnalyzers()
    {
        var package = fixture.Package;
        using var zip = ZipFile.OpenRead(package.File);
        var files = zip.Entries.Select(e => e.FullName).Where(n => !IsPackagingPart(n)).Order(StringComparer.Ordinal).ToList();
        output.WriteLine($"{Path.GetFileName(package.File)} ({NativeAot.Size(package.File)}):");
        foreach (var entry in zip.Entries.OrderBy(e => e.FullName, StringComparer.Ordinal)) output.WriteLine($"  {entry.Length,9:N0}  {entry.FullName}");

        Assert.Equal(
            ["PACKAGE.md", "RnnGen.nuspec", "analyzers/dotnet/cs/RnnGen.Generator.dll", "lib/net10.0/RnnGen.dll", "lib/net10.0/RnnGen.xml"],
            files);

        // The generator must load in any compiler host: netstandard2.0.
        Assert.Equal(".NETStandard,Version=v2.0", TargetFramework(zip.GetEntry("analyzers/dotnet/cs/RnnGen.Generator.dll")!));
        Assert.Equal(".NETCoreApp,Version=v10.0", TargetFramework(zip.GetEntry("lib/net10.0/RnnGen.dll")!));
    }

    [Fact]
    public void Package_HasMetadata_AndDependsOnExactlyTheRuntimesPackageReferences()
    {
        var package = fixture.Package;
        using var zip = ZipFile.OpenRead(package.File);
        using var nuspecStream = zip.GetEntry("RnnGen.nuspec")!.Open();
        var nuspec = XDocument.Load(nuspecStream);
        var ns = nuspec.Root!.GetDefaultNamespace();
        var metadata = nuspec.Root.Element(ns + "metadata")!;
        string Value(string name) => metadata.Element(ns + name)?.Value ?? "";

        Assert.Equal("RnnGen", Value("id"));
        Assert.Equal(package.Version, Value("version"));
        Assert.Equal("MIT", Value("license"));
        Assert.Equal("expression", metadata.Element(ns + "license")!.Attribute("type")!.Value);
        Assert.Equal("PACKAGE.md", Value("readme"));
        Assert.Contains("LSTM", Value("description"));
        Assert.Contains("source-generator", Value("tags").Split(' '));

        // Dependencies: the runtime's own package references, with their versions — and not the generator, which
        // is inside the package (a ProjectReference without PrivateAssets="all" would make it a dependency).
        var dependencies = metadata.Descendants(ns + "dependency")
            .Select(d => $"{d.Attribute("id")!.Value} {d.Attribute("version")!.Value}").Order(StringComparer.Ordinal).ToList();
        var runtimeReferences = XDocument.Load(Path.Combine(TestEnvironment.RepoRoot, "src", "RnnGen", "RnnGen.csproj"))
            .Descendants("PackageReference").Where(r => r.Attribute("PrivateAssets")?.Value != "all")
            .Select(r => $"{r.Attribute("Include")!.Value} {r.Attribute("Version")!.Value}").Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(runtimeReferences);
        Assert.Equal(runtimeReferences, dependencies);
        Assert.DoesNotContain(dependencies, d => d.StartsWith("RnnGen", StringComparison.Ordinal));
        Assert.Equal(["net10.0"], metadata.Descendants(ns + "group").Select(g => g.Attribute("targetFramework")!.Value));
    }

    // Files every nupkg has for the OPC container format.
    private static bool IsPackagingPart(string name) =>
        name.StartsWith("_rels/", StringComparison.Ordinal) || name.StartsWith("package/", StringComparison.Ordinal) || name == "[Content_Types].xml";

    private static string TargetFramework(ZipArchiveEntry assembly)
    {
        using var stream = new MemoryStream();
        using (var entry = assembly.Open()) entry.CopyTo(stream);
        stream.Position = 0;
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        foreach (var handle in reader.GetAssemblyDefinition().GetCustomAttributes())
        {
            var attribute = reader.GetCustomAttribute(handle);
            var constructor = reader.GetMemberReference((MemberReferenceHandle)attribute.Constructor);
            var type = reader.GetTypeReference((TypeReferenceHandle)constructor.Parent);
            if (reader.GetString(type.Name) != nameof(TargetFrameworkAttribute)) continue;
            var value = attribute.DecodeValue(new StringOnlyDecoder());
            return (string)value.FixedArguments[0].Value!;
        }
        return "(no TargetFrameworkAttribute)";
    }

    // Decodes attributes whose arguments are strings (TargetFrameworkAttribute's are).
    private sealed class StringOnlyDecoder : ICustomAttributeTypeProvider<string>
    {
        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode.ToString();
        public string GetSystemType() => "System.Type";
        public string GetSZArrayType(string elementType) => elementType + "[]";
        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) => reader.GetString(reader.GetTypeDefinition(handle).Name);
        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => reader.GetString(reader.GetTypeReference(handle).Name);
        public string GetTypeFromSerializedName(string name) => name;
        public PrimitiveTypeCode GetUnderlyingEnumType(string type) => throw new NotSupportedException("No enum arguments expected.");
        public bool IsSystemType(string type) => type == "System.Type";
    }
}
